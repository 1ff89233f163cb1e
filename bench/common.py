"""Helpers shared by the benchmark (`make bench`): the bench database, the
production server and wrk. Starting gunicorn, its environment and parsing wrk's
summary are those of the load run (`bench/load.py`), reused here."""

import json
import os
import socket
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

RESULTS = ROOT / "bench" / "results"
# Synthetic initiatives get ids from here on: they never collide with the seed's,
# and the rows already written tell a resumed generation where to start.
ID_BASE = 1_000_000_000
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def database(size: int) -> str:
    """The bench database of `size` initiatives: one per size, kept from one run
    to the next (BENCH_DATABASE names another)."""
    return os.environ.get("BENCH_DATABASE") or f"portal_bench_{size}"


def redis_answers() -> bool:
    """Tell whether the Redis of REDIS answers on this machine."""
    host, port = REDIS.split("//")[1].split("/")[0].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def bench_env(workdir: Path, size: int, cache: bool = False) -> dict[str, str]:
    """The production profile's environment on the bench database: without any
    cache (NO_CACHE=1), or with the page cache of production (Redis when it
    answers, as in production, else the database cache)."""
    env = server_env(f"{POSTGRES}/{database(size)}", workdir)
    env["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
    # Redis holds the API's rate-limit counters in production, caching or not.
    if redis_answers():
        env["REDIS_URL"] = REDIS
    if cache:
        env["PAGE_CACHE_SECONDS"] = "300"
    else:
        env["NO_CACHE"] = "1"
        env["PAGE_CACHE_SECONDS"] = "0"
    return env


def ensure_database(size: int) -> bool:
    """Create the bench database if missing; return True when it was created."""
    name = database(size)
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            )
    return not exists


def connect(size: int, **kwargs) -> psycopg.Connection:
    return psycopg.connect(f"{POSTGRES}/{database(size)}", **kwargs)


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
