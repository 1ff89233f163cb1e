from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete


def delete_image_file(sender, instance, **kwargs):
    """A deleted initiative's image stops being served once the deletion
    commits (a rolled-back deletion keeps it)."""
    from .models import delete_file_on_commit

    if instance.image.name:
        delete_file_on_commit(instance.image.storage, instance.image.name)


class InitiativesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "initiatives"
    verbose_name = "Catalogue des initiatives"

    def ready(self):
        from .search import register_sqlite_functions

        connection_created.connect(register_sqlite_functions)
        post_delete.connect(
            delete_image_file,
            sender=self.get_model("Initiative"),
            dispatch_uid="initiatives.delete_image_file",
        )
