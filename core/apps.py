from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Plateforme"

    def ready(self):
        # Each import also registers that module's system checks.
        from django.contrib import admin

        from . import accounts, checks, logs, page_cache  # noqa: F401

        logs.connect_signals()
        page_cache.connect_signals()
        # The admin's modules are loaded by now (the admin app comes first).
        accounts.secure_admin(admin.site)
