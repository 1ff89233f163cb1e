from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django_otp.admin import OTPAdminSite


class PortalAdminSite(OTPAdminSite):
    """The admin, open only to staff who passed a password and a one-time code:
    OTPAdminSite.has_permission() also requires `request.user.is_verified()`."""

    site_header = "Administration du portail des initiatives"
    site_title = "Portail des initiatives"
    index_title = "Gestion du catalogue"
    login_template = "admin/otp_login.html"

    def __init__(self, name="admin"):
        # OTPAdminSite names itself "otpadmin"; reverse("admin:…") needs "admin".
        super().__init__(name)

    @property
    def login_form(self):
        # Imported late: accounts imports django.contrib.auth.admin, which
        # registers the User model on this very site while it is being built.
        from core.accounts import OTPLoginForm

        return OTPLoginForm

    def get_urls(self):
        # admin_view() sends anonymous, non-staff and unverified users to the login
        # page.
        urls = [
            path("qualite/", self.admin_view(self.data_quality), name="data_quality"),
        ]
        return urls + super().get_urls()

    def index(self, request, extra_context=None):
        from core.models import Mail
        from initiatives.models import Initiative

        pending = Initiative.objects.filter(status=Initiative.Status.SUBMITTED)
        data_quality_url = None
        if request.user.has_perm("initiatives.view_initiative"):
            data_quality_url = reverse("admin:data_quality", current_app=self.name)
        failed_mail_count = None
        if request.user.has_perm("core.view_mail"):
            failed_mail_count = Mail.objects.filter(status=Mail.Status.FAILED).count()
        extra_context = {
            **(extra_context or {}),
            "pending_count": pending.count(),
            "data_quality_url": data_quality_url,
            "failed_mail_count": failed_mail_count,
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
