import importlib
import pkgutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.migrations.loader import MigrationLoader

from initiatives import migrations
from initiatives.facets.tokens import installation

APP = "initiatives"
TEMPLATE = '''"""Install the facets' PostgreSQL functions and triggers as the
facet registry (initiatives/facets/registry.py) declares them, then count
again. Written by `python manage.py facet_migration`, not by hand. Nothing on
SQLite."""

from django.db import migrations

FACETS_SQL = r"""
{forward}"""

# What the previous facet migration installed.
PREVIOUS_SQL = r"""
{backward}"""


def run(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters: the SQL's `%` are LIKE's, not placeholders.
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return operation


class Migration(migrations.Migration):
    dependencies = [("{app}", "{leaf}")]

    operations = [migrations.RunPython(run(FACETS_SQL), run(PREVIOUS_SQL))]
'''


def installed_migrations():
    """The app's migrations that install the facets' SQL, oldest first."""
    found = []
    modules = sorted(pkgutil.iter_modules(migrations.__path__), key=lambda m: m.name)
    for module in modules:
        migration = importlib.import_module(f"{migrations.__name__}.{module.name}")
        if hasattr(migration, "FACETS_SQL"):
            found.append((module.name, migration.FACETS_SQL.lstrip("\n")))
    return found


class Command(BaseCommand):
    help = (
        "Écrit la migration qui installe dans PostgreSQL les fonctions et "
        "déclencheurs des facettes tels que le registre des facettes les "
        "déclare (initiatives/facets/registry.py), s'ils ont changé depuis la "
        "dernière. --check : dire seulement s'il en manque une (code 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Ne rien écrire ; sortir en erreur si une migration manque.",
        )

    def handle(self, *args, check, **options):
        wanted = installation()
        installed = installed_migrations()
        if installed and installed[-1][1] == wanted:
            self.stdout.write(
                "Les migrations installent déjà les facettes du registre."
            )
            return
        if check:
            raise CommandError(
                "Le registre des facettes a changé sans sa migration : lancez "
                "`python manage.py facet_migration`."
            )
        if not installed:
            raise CommandError(
                "Aucune migration des facettes à prolonger : la première s'écrit "
                "avec son retour arrière vers 0006 et 0012."
            )
        loader = MigrationLoader(None, ignore_no_migrations=True)
        [leaf] = loader.graph.leaf_nodes(APP)
        number = int(leaf[1].split("_")[0]) + 1
        name = f"{number:04d}_facet_tokens"
        path = Path(migrations.__file__).with_name(f"{name}.py")
        path.write_text(
            TEMPLATE.format(
                forward=wanted, backward=installed[-1][1], app=APP, leaf=leaf[1]
            )
        )
        self.stdout.write(self.style.SUCCESS(f"Migration écrite : {path}"))
