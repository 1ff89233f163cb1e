from django.contrib import admin


class PortalAdminSite(admin.AdminSite):
    site_header = "Administration du portail des initiatives"
    site_title = "Portail des initiatives"
    index_title = "Gestion du catalogue"

    def index(self, request, extra_context=None):
        from initiatives.models import Initiative

        pending = Initiative.objects.filter(status=Initiative.Status.SUBMITTED)
        extra_context = {**(extra_context or {}), "pending_count": pending.count()}
        return super().index(request, extra_context)
