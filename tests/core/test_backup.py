"""A backup restores into a fresh database with the same rows and the same
media files (`python -m core.backup`, what `make backup` and `make restore`
run), on throwaway databases, never the suite's own."""

import os
import sqlite3
import stat
import subprocess
import sys

import psycopg
import pytest

from tests.servers import BUCKET, ObjectStore
from tests.test_migrations import (
    BASE_DIR,
    manage,
    needs_postgres,
    needs_sqlite,
    throwaway_postgres,
)

MEDIA = {
    "initiatives/3f9c2a7e.webp": b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(range(256)),
    "initiatives/archive/ancienne.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
}


def backup_tool(
    *args, database_url, media_root, restore_url=None, check=True, store=None
):
    env = {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": str(media_root)}
    env.pop("RESTORE_DATABASE_URL", None)
    env.pop("MEDIA_STORAGE_URL", None)
    if store is not None:
        env["MEDIA_STORAGE_URL"] = store.url
    if restore_url:
        env["RESTORE_DATABASE_URL"] = restore_url
    result = subprocess.run(
        [sys.executable, "-m", "core.backup", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def seeded_media(root):
    for name, content in MEDIA.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def media_files(root):
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def sqlite_counts(path):
    with sqlite3.connect(path) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in tables
        }
    connection.close()
    return counts


def postgres_counts(url):
    with psycopg.connect(url) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        ]
        counts = {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in tables
        }
        triggers = connection.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'initiatives_search_vector'"
        ).fetchone()[0]
    return counts, triggers


def assert_same_project_data(before, after):
    assert after == before
    for table in ("auth_group", "initiatives_initiative", "initiatives_collectivity"):
        assert before[table] > 0, f"{table} was not seeded"
    assert "auth_user" in before


def only_backup(folder):
    (backup,) = folder.iterdir()
    return backup


@needs_sqlite
def test_sqlite_backup_restores_rows_and_media(tmp_path):
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    target = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    media = seeded_media(tmp_path / "media")
    manage("migrate", "--noinput", database_url=source)
    manage("load_seed", database_url=source)

    backups = tmp_path / "backups"
    backup_tool("backup", "--dir", str(backups), database_url=source, media_root=media)
    backup = only_backup(backups)
    assert {path.name for path in backup.iterdir()} == {
        "database.sqlite3",
        "media.tar.gz",
        "SHA256SUMS",
    }
    restored_media = tmp_path / "restored-media"
    backup_tool(
        "restore",
        str(backup),
        database_url=source,
        restore_url=target,
        media_root=restored_media,
    )

    assert_same_project_data(
        sqlite_counts(tmp_path / "source.sqlite3"),
        sqlite_counts(tmp_path / "restored.sqlite3"),
    )
    assert media_files(restored_media) == MEDIA


def test_damaged_backup_is_refused(tmp_path):
    source = tmp_path / "source.sqlite3"
    sqlite3.connect(source).close()
    media = seeded_media(tmp_path / "media")
    url = f"sqlite:///{source}"
    backup_tool(
        "backup", "--dir", str(tmp_path / "b"), database_url=url, media_root=media
    )
    backup = only_backup(tmp_path / "b")
    with (backup / "media.tar.gz").open("ab") as archive:
        archive.write(b"tampered")
    restored = tmp_path / "restored-media"
    result = backup_tool(
        "restore", str(backup), database_url=url, media_root=restored, check=False
    )
    assert result.returncode == 1
    assert "checksum" in result.stderr
    assert not restored.exists()


@needs_postgres
def test_postgresql_backup_restores_into_a_fresh_database(tmp_path):
    media = seeded_media(tmp_path / "media")
    with (
        throwaway_postgres("backup_src") as source,
        throwaway_postgres("backup_dst") as target,
    ):
        manage("migrate", "--noinput", database_url=source)
        manage("load_seed", database_url=source)
        backups = tmp_path / "backups"
        backup_tool(
            "backup", "--dir", str(backups), database_url=source, media_root=media
        )
        backup = only_backup(backups)
        assert (backup / "database.dump").read_bytes()[:5] == b"PGDMP"
        restored_media = tmp_path / "restored-media"
        backup_tool(
            "restore",
            str(backup),
            database_url=source,
            restore_url=target,
            media_root=restored_media,
        )
        before, source_triggers = postgres_counts(source)
        after, target_triggers = postgres_counts(target)

    assert_same_project_data(before, after)
    assert target_triggers == source_triggers == 1
    assert media_files(restored_media) == MEDIA


def test_a_backup_is_readable_by_its_owner_only(tmp_path):
    """It holds second-factor keys, live sessions and contact data."""
    source = tmp_path / "source.sqlite3"
    sqlite3.connect(source).close()
    media = seeded_media(tmp_path / "media")
    backups = tmp_path / "b"
    backup_tool(
        "backup",
        "--dir",
        str(backups),
        database_url=f"sqlite:///{source}",
        media_root=media,
    )
    backup = only_backup(backups)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700
    for path in backup.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


@pytest.fixture
def object_store(tmp_path):
    """A real S3-compatible store (SeaweedFS), private, with one bucket."""
    store = ObjectStore(tmp_path)
    store.start()
    yield store
    store.stop()


def bucket_files(store):
    client = store.client()
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {
        item["Key"]: client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        for item in listed
    }


def test_a_backup_holds_the_buckets_objects_and_restores_them(tmp_path, object_store):
    client = object_store.client()
    for name, content in MEDIA.items():
        client.put_object(Bucket=BUCKET, Key=name, Body=content)
    source = tmp_path / "source.sqlite3"
    sqlite3.connect(source).close()
    url = f"sqlite:///{source}"
    empty = tmp_path / "empty-media"
    backups = tmp_path / "b"
    backup_tool(
        "backup", "--dir", str(backups), database_url=url, media_root=empty,
        store=object_store,
    )  # fmt: skip
    backup = only_backup(backups)
    assert not empty.exists()  # nothing went through the local disk
    for name in MEDIA:
        client.delete_object(Bucket=BUCKET, Key=name)
    client.put_object(Bucket=BUCKET, Key="initiatives/nouvelle.jpg", Body=b"apres")
    backup_tool(
        "restore", str(backup), database_url=url, media_root=empty, store=object_store
    )
    assert bucket_files(object_store) == {
        **MEDIA,
        "initiatives/nouvelle.jpg": b"apres",  # arrived after the backup: kept
    }
