"""Staff roles: editors enter, edit and publish; administrators do everything,
users included."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITORS = "Éditeurs"
ADMINISTRATORS = "Administrateurs"
CONTENT_APPS = ["initiatives", "surveys", "vigilance"]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they
    # exist now, on a fresh database too.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    content = Permission.objects.filter(content_type__app_label__in=CONTENT_APPS)
    editors, _ = Group.objects.get_or_create(name=EDITORS)
    editors.permissions.set(content.exclude(codename__startswith="delete_"))
    administrators, _ = Group.objects.get_or_create(name=ADMINISTRATORS)
    everything = content | Permission.objects.filter(
        content_type__app_label__in=["auth", "admin", "sessions", "contenttypes"]
    )
    administrators.permissions.set(everything)


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=[EDITORS, ADMINISTRATORS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0003_add_moderation_queue"),
        ("initiatives", "0005_add_history"),
        ("vigilance", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
