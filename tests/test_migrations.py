"""Migrations apply from zero, every one of them runs backward (the data
migrations included), and the models have no change without its migration.
Each check runs `manage.py` in a subprocess on a throwaway database, never on
the suite's own."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
PROJECT_APPS = ["initiatives", "surveys", "vigilance"]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith("postgres")
needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="DATABASE_URL is not PostgreSQL: the PostgreSQL variant runs in the CI "
    "job on PostgreSQL (DATABASE_URL=postgres://… make test)",
)
# One engine per run keeps each CI job short; CI runs the suite on both.
needs_sqlite = pytest.mark.skipif(
    ON_POSTGRES,
    reason="DATABASE_URL is PostgreSQL: the SQLite variant runs in the "
    "CI job on SQLite",
)

# Unapply every project migration (the apps depend on one another: initiatives'
# zero takes surveys' with it), then apply them all again.
ROUND_TRIP = """
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.migrations.recorder import MigrationRecorder

call_command("migrate", "initiatives", "zero", verbosity=0)
call_command("migrate", "vigilance", "zero", verbosity=0)
left = MigrationRecorder.Migration.objects.filter(app__in={apps!r})
assert not left.exists(), list(left.values_list("app", "name"))
staff = Group.objects.filter(name__in=["Éditeurs", "Administrateurs"])
assert not staff.exists(), "the staff groups' migration did not reverse"
call_command("migrate", verbosity=0)
assert staff.count() == 2, "the staff groups were not created again"
"""


def manage(*args, database_url, media_root=None, check=True):
    """Run manage.py as `make migrate` does, against `database_url`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media_root or BASE_DIR / "media"),
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def server_url(name):
    """Give DATABASE_URL (PostgreSQL) with another database name."""
    return DATABASE_URL.rsplit("/", 1)[0].split("?")[0] + f"/{name}"


@contextlib.contextmanager
def throwaway_postgres(suffix):
    """Create an empty database named after DATABASE_URL's, drop it after."""
    config = dj_database_url.parse(DATABASE_URL)
    name = f"{config['NAME']}_{suffix}"
    admin = psycopg.connect(
        dbname="postgres",
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        autocommit=True,
    )
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    with admin:
        admin.execute(drop)
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield server_url(name)
        finally:
            admin.execute(drop)


def round_trip(database_url):
    manage("migrate", "--noinput", database_url=database_url)
    script = ROUND_TRIP.format(apps=set(PROJECT_APPS))
    manage("shell", "--no-imports", "-c", script, database_url=database_url)
    plan = manage("showmigrations", "--plan", database_url=database_url).stdout
    assert "[ ]" not in plan
    assert "[X]  initiatives.0004_postgresql_search" in plan


@needs_sqlite
def test_migrations_apply_from_zero_and_reverse_on_sqlite(tmp_path):
    round_trip(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")


@needs_postgres
def test_migrations_apply_from_zero_and_reverse_on_postgresql():
    with throwaway_postgres("migrations") as url:
        round_trip(url)


def test_no_model_change_lacks_its_migration(tmp_path):
    result = manage(
        "makemigrations",
        "--check",
        "--dry-run",
        database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
