"""What the load run (`bench/load.py`, `make load`) and the benchmark
(`bench/generate.py` and `bench/run.py`, `make bench`) share: the production
server (gunicorn, its environment, starting it and waiting for it), wrk and
its summary, and the bench database."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POSTGRES = "postgres://postgres@127.0.0.1:5432"
RESULTS = ROOT / "bench" / "results"
# Synthetic initiatives get ids from here on: they never collide with the seed's,
# and the rows already written tell a resumed generation where to start.
ID_BASE = 1_000_000_000
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")

READY_TIMEOUT = 60
# wrk counts a response slower than its timeout (2 s by default) as a socket
# error. The load run's 50 connections on two sync workers queue: latency is
# then about 50 / throughput, which the p50 and p99 columns show. Wait 30 s
# before calling it an error: far longer than any page takes, however long the
# queue.
WRK_TIMEOUT = 30

# wrk reports "non-2xx or 3xx" responses: this script counts every status
# outside 2xx, and prints the summary as one JSON line for the parser below.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then not_2xx = not_2xx + 1 end
end
function done(summary, latency, requests)
  local not_2xx = 0
  for _, thread in ipairs(threads) do not_2xx = not_2xx + thread:get("not_2xx") end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d,'
    .. ' "max_us": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d,'
    .. ' "not_2xx": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout,
    not_2xx))
end
"""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        HTTPS="0",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(workdir / "static"),
        MEDIA_ROOT=str(workdir / "media"),
        API_ANONYMOUS_RATE="1000000/minute",
        SUBMISSION_MIN_SECONDS="0",
        SUBMISSIONS_PER_HOUR="100000",
        SUBMISSION_ATTEMPTS_PER_HOUR="100000",
    )
    env.pop("REDIS_URL", None)
    return env


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """Start gunicorn with the production configuration (two sync workers)."""
    command = [str(BIN / "gunicorn"), "-c", "portal/gunicorn_conf.py", "portal.wsgi"]
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"}
    with log.open("a") as output:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )


def stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[tuple[str, str, int]]:
    """Start gunicorn (start_server) on a free port and wait until it answers;
    give its base URL, the probe path that answered and the master's pid. The
    server stops when the block ends."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(env, port, log)
    try:
        probe = wait_until_ready(base, server)
        yield base, probe, server.pid
    finally:
        stop_server(server)


def check_answers(base: str, paths: dict[str, str]) -> None:
    """Stop the run unless every named path answers 200."""
    for name, path in paths.items():
        status = status_of(base + path)
        if status != 200:
            raise SystemExit(f"{name} ({path}) répond {status} au lieu de 200")


def status_of(url: str) -> int:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def drain(url: str) -> None:
    """Wait until the requests wrk left queued are served, so that one run does
    not slow the next: the probe answers once the queue in front of it is done."""
    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(url, timeout=WRK_TIMEOUT + 30):
        pass


def wait_until_ready(base: str, server: subprocess.Popen) -> str:
    """Wait for /healthz (or /robots.txt where it does not exist); return it."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn s'est arrêté au démarrage : voir son journal")
        status = status_of(f"{base}/healthz")
        if status == 200:
            return "/healthz"
        if status == 404 and status_of(f"{base}/robots.txt") == 200:
            return "/robots.txt"
        time.sleep(0.5)
    raise SystemExit(f"le serveur n'a pas répondu en {READY_TIMEOUT} s")


def run_wrk(
    url: str, script: Path, connections: int, duration: int, timeout: int
) -> dict:
    """Run wrk with two threads and the counting script (WRK_SCRIPT) on `url`;
    give its summary. `timeout`: seconds before the run itself is given up."""
    command = [shutil.which("wrk"), "-t2", f"-c{connections}", f"-d{duration}s"]
    command += ["--latency", "--timeout", f"{WRK_TIMEOUT}s", "-s", str(script), url]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=True
    )
    line = next(
        line for line in result.stdout.splitlines() if line.startswith("WRK-JSON ")
    )
    raw = json.loads(line.removeprefix("WRK-JSON "))
    seconds = raw["duration_us"] / 1e6
    return {
        "url": url,
        "requests": raw["requests"],
        "requests_per_second": round(raw["requests"] / seconds, 1),
        "latency_p50_ms": round(raw["p50_us"] / 1000, 1),
        "latency_p99_ms": round(raw["p99_us"] / 1000, 1),
        "latency_max_ms": round(raw["max_us"] / 1000, 1),
        "socket_errors": raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        "socket_errors_detail": {
            key: raw[key] for key in ("connect", "read", "write", "timeout")
        },
        "non_2xx": raw["not_2xx"],
    }


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
