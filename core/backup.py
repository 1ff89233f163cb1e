"""Back up and restore the database and the uploaded media.

    python -m core.backup backup              # → $BACKUP_DIR/<UTC stamp>/
    python -m core.backup restore backups/20250101T020000Z

A backup folder holds the database (`database.dump`, PostgreSQL's custom format,
or `database.sqlite3`, an online copy of the SQLite file), `media.tar.gz` (the
files of MEDIA_ROOT, or the objects of the MEDIA_STORAGE_URL bucket) and
`SHA256SUMS` (checked before a restore; `sha256sum -c SHA256SUMS` checks it by
hand). The database is the one of DATABASE_URL; a restore goes to
RESTORE_DATABASE_URL when given. Only the environment is read, not Django's
settings: this must work on a fresh machine before the portal itself does.
"""

import argparse
import datetime
import hashlib
import io
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import dj_database_url

from core.configuration import ObjectStore, media_store

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
POSTGRES_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
MEDIA_ARCHIVE = "media.tar.gz"
CHECKSUMS = "SHA256SUMS"


class BackupError(Exception):
    pass


def database_url(restore: bool = False) -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    return (os.environ.get("RESTORE_DATABASE_URL") or url) if restore else url


def media_root() -> Path:
    return Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")


def is_postgres(url: str) -> bool:
    return url.startswith("postgres")


def libpq_url(url: str) -> str:
    """Give the URL as libpq reads it (it knows postgres:// and postgresql://)."""
    return "postgresql://" + url.split("://", 1)[1]


def sqlite_path(url: str) -> Path:
    return Path(dj_database_url.parse(url)["NAME"])


def run(command: list[str]) -> None:
    try:
        # A fixed pg_dump/pg_restore argument list, never a shell.
        result = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
    except FileNotFoundError as error:
        raise BackupError(
            f"{command[0]} not found: install the PostgreSQL client tools"
        ) from error
    if result.returncode:
        raise BackupError(f"{command[0]} failed:\n{result.stderr.strip()}")


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database page by page while it stays in use (the online
    backup API): a consistent copy, even with writers and WAL."""
    if not source.exists():
        raise BackupError(f"no SQLite database at {source}")
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)
    origin.close()
    copy.close()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup(backup_dir: Path) -> Path:
    """Save the database and the media into a new timestamped folder of
    `backup_dir`, readable by its owner only (it holds second-factor keys,
    sessions and contact data); return that folder."""
    previous = os.umask(0o077)
    try:
        return write_backup(backup_dir)
    finally:
        os.umask(previous)


def write_backup(backup_dir: Path) -> Path:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = backup_dir / stamp
    folder.mkdir(parents=True, mode=0o700)
    url = database_url()
    if is_postgres(url):
        target = folder / POSTGRES_DUMP
        run(["pg_dump", "--format=custom", f"--file={target}", libpq_url(url)])
    else:
        copy_sqlite(sqlite_path(url), folder / SQLITE_COPY)
    with tarfile.open(folder / MEDIA_ARCHIVE, "w:gz") as archive:
        store = media_store()
        if store is not None:
            archive_bucket(store, archive)
        elif (media := media_root()).is_dir():
            for child in sorted(media.iterdir()):
                archive.add(child, arcname=child.name)
    files = sorted(path for path in folder.iterdir() if path.name != CHECKSUMS)
    lines = [f"{sha256(path)}  {path.name}\n" for path in files]
    (folder / CHECKSUMS).write_text("".join(lines))
    return folder


def archive_bucket(store: ObjectStore, archive: tarfile.TarFile) -> None:
    """Add every object of the media bucket to the archive, by its key, one at
    a time in memory (an uploaded image is a few hundred kilobytes)."""
    client = store.client()
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket)
    for page in pages:
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=store.bucket, Key=item["Key"])[
                "Body"
            ].read()
            info = tarfile.TarInfo(item["Key"])
            info.size = len(body)
            info.mtime = item["LastModified"].timestamp()
            archive.addfile(info, io.BytesIO(body))


def restore_bucket(store: ObjectStore, archive: tarfile.TarFile) -> None:
    """Put the archive's files back into the media bucket under their keys;
    objects uploaded after the backup stay."""
    client = store.client()
    for member in archive.getmembers():
        if (
            not member.isfile()
            or member.name.startswith(("/", ".."))
            or ".." in member.name.split("/")
        ):
            raise BackupError(f"{member.name}: not a media file of the bucket")
        body = archive.extractfile(member).read()
        client.put_object(Bucket=store.bucket, Key=member.name, Body=body)


def verify(folder: Path) -> None:
    """Refuse a backup folder whose files do not match their checksums."""
    checksums = folder / CHECKSUMS
    if not checksums.exists():
        raise BackupError(f"{folder} is not a backup folder (no {CHECKSUMS})")
    for line in checksums.read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        if sha256(folder / name) != digest:
            raise BackupError(f"{folder / name} is damaged: checksum mismatch")


def restore(folder: Path) -> None:
    """Restore the database (into RESTORE_DATABASE_URL or DATABASE_URL) and the
    media of a backup folder. Media files newer than the backup are kept."""
    verify(folder)
    url = database_url(restore=True)
    if (folder / POSTGRES_DUMP).exists():
        if not is_postgres(url):
            raise BackupError("a PostgreSQL dump restores into PostgreSQL only")
        run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                # All or nothing: a failed restore leaves the database as it was.
                "--single-transaction",
                f"--dbname={libpq_url(url)}",
                str(folder / POSTGRES_DUMP),
            ]
        )
    else:
        if is_postgres(url):
            raise BackupError("a SQLite copy restores into SQLite only")
        target = sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_sqlite(folder / SQLITE_COPY, target)
    store = media_store()
    if store is not None:
        with tarfile.open(folder / MEDIA_ARCHIVE) as archive:
            restore_bucket(store, archive)
        return
    media = media_root()
    media.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / MEDIA_ARCHIVE) as archive:
        # The "data" filter refuses absolute paths, links out and "..".
        archive.extractall(media, filter="data")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.backup", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    save = commands.add_parser("backup", help="save the database and the media")
    save.add_argument(
        "--dir",
        type=Path,
        default=Path(os.environ.get("BACKUP_DIR") or BASE_DIR / "backups"),
        help="where to create the timestamped folder (BACKUP_DIR, else backups/)",
    )
    load = commands.add_parser("restore", help="restore a backup folder")
    load.add_argument("folder", type=Path, help="a folder made by `backup`")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            folder = backup(args.dir)
            sys.stdout.write(f"Sauvegarde écrite dans {folder}\n")
        else:
            restore(args.folder)
            sys.stdout.write(f"Sauvegarde {args.folder} restaurée\n")
    except BackupError as error:
        sys.stderr.write(f"Échec : {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
