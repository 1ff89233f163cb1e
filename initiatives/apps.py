from django.apps import AppConfig
from django.db.backends.signals import connection_created


class InitiativesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "initiatives"
    verbose_name = "Catalogue des initiatives"

    def ready(self):
        from .search import register_sqlite_functions

        connection_created.connect(register_sqlite_functions)
