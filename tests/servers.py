"""What the tests that start real processes share: free ports, a database of
their own, the portal's manage.py, waiting for a server, a TCP relay that a
test can cut to play a database outage, and the local cluster's parts
(bench/cluster.py: a real S3 object store, the whole cluster)."""

import os
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

# The bench's scripts import one another by name, from their folder.
sys.path.insert(0, str(Path(settings.BASE_DIR) / "bench"))
from cluster import BUCKET, Cluster, ObjectStore, stop

__all__ = ["BUCKET", "Cluster", "ObjectStore", "stop"]

START_TIMEOUT = 60


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url():
    return os.environ.get("DATABASE_URL", "")


def on_postgres():
    return database_url().startswith("postgres")


@contextmanager
def own_database(tmp_dir, suffix):
    """Give a server a database of its own, dropped afterwards on PostgreSQL:
    `<dbname>_<suffix>` on the server of DATABASE_URL; otherwise a SQLite file
    in `tmp_dir`. Yields its URL."""
    if not on_postgres():
        yield f"sqlite:///{tmp_dir / f'{suffix}.sqlite3'}"
        return
    parts = urlsplit(database_url())
    name = f"{parts.path.lstrip('/')}_{suffix}"
    maintenance_url = urlunsplit(parts._replace(path="/postgres"))
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(name)
    )
    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        connection.execute(drop)
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        with psycopg.connect(maintenance_url, autocommit=True) as connection:
            connection.execute(drop)


def manage(*args, env, timeout=300):
    """Run manage.py with `env`; fail the test with its output if it fails."""
    try:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.CalledProcessError as error:
        pytest.fail(
            f"manage.py {' '.join(args)} failed (exit {error.returncode}):\n"
            f"{error.stdout}\n{error.stderr}"
        )


def wait_until_serving(url, server, log_path, timeout=START_TIMEOUT):
    """Wait until the server answers, whatever the status: a page that fails is
    for its own test to report, not a reason to stop the whole suite."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"The server stopped (exit {server.returncode}) while starting:\n"
                f"{log_path.read_text()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(
        f"The server did not answer on {url} within {timeout} s:\n"
        f"{log_path.read_text()}"
    )


class Relay:
    """A TCP relay on 127.0.0.1 to `target` (host, port): `cut()` closes every
    connection and refuses new ones, as a stopped server does; `restore()`
    listens again on the same port. Each connection is copied both ways by a
    thread of its own, which ends with the connection."""

    def __init__(self, target):
        self.target = target
        self.port = free_port()
        self.connections = set()
        self.lock = threading.Lock()
        self.listener = None
        self.restore()

    def restore(self):
        if self.listener is not None and self.listener.fileno() != -1:
            return  # listening already
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.listener = listener
        threading.Thread(target=self.accept, args=[listener], daemon=True).start()

    def accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed by cut()
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections |= {client, upstream}
            threading.Thread(
                target=self.copy, args=[client, upstream], daemon=True
            ).start()

    def copy(self, client, upstream):
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            try:
                while True:
                    for key, _ in selector.select(timeout=1):
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        key.data.sendall(data)
                    with self.lock:
                        if client not in self.connections:
                            return
            except OSError:
                return
            finally:
                self.close(client, upstream)

    def close(self, *sockets):
        with self.lock:
            for sock in sockets:
                self.connections.discard(sock)
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def cut(self):
        # shutdown() wakes the thread blocked in accept(); close() alone would not.
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            live = list(self.connections)
        self.close(*live)
