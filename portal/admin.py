from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse


class PortalAdminSite(admin.AdminSite):
    site_header = "Administration du portail des initiatives"
    site_title = "Portail des initiatives"
    index_title = "Gestion du catalogue"

    def get_urls(self):
        # admin_view() sends anonymous and non-staff users to the login page.
        urls = [
            path("qualite/", self.admin_view(self.data_quality), name="data_quality"),
        ]
        return urls + super().get_urls()

    def index(self, request, extra_context=None):
        from initiatives.models import Initiative

        pending = Initiative.objects.filter(status=Initiative.Status.SUBMITTED)
        data_quality_url = None
        if request.user.has_perm("initiatives.view_initiative"):
            data_quality_url = reverse("admin:data_quality", current_app=self.name)
        extra_context = {
            **(extra_context or {}),
            "pending_count": pending.count(),
            "data_quality_url": data_quality_url,
        }
        return super().index(request, extra_context)

    def data_quality(self, request):
        from initiatives.quality import find_problems, group_by_kind

        user = request.user
        if not (user.is_staff and user.has_perm("initiatives.view_initiative")):
            raise PermissionDenied
        problems = find_problems()
        context = {
            **self.each_context(request),
            "title": "Qualité des données",
            "problem_count": len(problems),
            "groups": group_by_kind(problems),
        }
        return TemplateResponse(request, "admin/data_quality.html", context)
