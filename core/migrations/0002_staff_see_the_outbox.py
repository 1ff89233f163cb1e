"""Staff see the outbox and send a failed mail again: view and change the
mails, for Éditeurs and Administrateurs (surveys/0004 made the groups)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ["Éditeurs", "Administrateurs"]
CODENAMES = ["view_mail", "change_mail"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("core")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="core", codename__in=CODENAMES
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="core", codename__in=CODENAMES
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("surveys", "0004_create_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
