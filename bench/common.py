"""Helpers shared by the benchmark (`make bench`): the bench database, the
production server and wrk. Starting gunicorn, its environment and parsing wrk's
summary are those of the load run (`bench/load.py`), reused here."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import (
    BIN,
    POSTGRES,
    ROOT,
    WRK_SCRIPT,
    drain,
    free_port,
    server_env,
    start_server,
    status_of,
    stop_server,
    wait_until_ready,
)

__all__ = [
    "BIN",
    "POSTGRES",
    "ROOT",
    "WRK_SCRIPT",
    "drain",
    "free_port",
    "start_server",
    "status_of",
    "stop_server",
    "wait_until_ready",
]

DATABASE = os.environ.get("BENCH_DATABASE", "portal_bench")
DATABASE_URL = f"{POSTGRES}/{DATABASE}"
RESULTS = ROOT / "bench" / "results"
# Synthetic initiatives get ids from here on: they never collide with the seed's,
# and the rows already written tell a resumed generation where to start.
ID_BASE = 1_000_000_000


def bench_env(workdir: Path) -> dict[str, str]:
    """The production profile's environment on the bench database."""
    env = server_env(DATABASE_URL, workdir)
    env["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
    return env


def ensure_database() -> bool:
    """Create the bench database if missing; return True when it was created."""
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]
        ).fetchone()
        if not exists:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE))
            )
    return not exists


def connect(**kwargs) -> psycopg.Connection:
    return psycopg.connect(DATABASE_URL, **kwargs)


def manage(env: dict[str, str], *args: str, log: Path | None = None) -> None:
    """Run a management command against the bench database."""
    output = log.open("a") if log else None
    try:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            check=True,
        )
    finally:
        if output:
            output.close()


def results_path(size: int) -> Path:
    return RESULTS / f"bench-{size}.json"


def read_results(size: int) -> dict | None:
    path = results_path(size)
    if not path.exists():
        return None
    return json.loads(path.read_text())
