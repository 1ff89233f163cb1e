from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin.PortalAdminSite"

    def ready(self):
        super().ready()
        from . import page_cache  # also registers the page cache's system check

        page_cache.connect_signals()
        from . import accounts  # also registers the staff accounts' system check

        accounts.secure_admin(self.module.site)
        from . import checks  # noqa: F401 (registers the project's system checks)
