"""The production profile under failure, with real processes: gunicorn, the
task worker, a mail server (aiosmtpd, slow on purpose) and, on PostgreSQL, a
relay in front of the database that the tests cut to play an outage.

One server for the module, on a database of its own, migrated and seeded once.
"""

import asyncio
import email
import email.policy
import json
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import psycopg
import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from tests.servers import (
    Relay,
    free_port,
    manage,
    on_postgres,
    own_database,
    stop,
    wait_until_serving,
)

SMTP_DELAY = 1.0  # seconds the mail server takes to accept a message
STAFF = "equipe@example.org"
SUBMITTER = "camille.martin@example.org"


class SlowMailServer:
    """Collects the messages it receives, after SMTP_DELAY seconds each."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(SMTP_DELAY)
        message = email.message_from_bytes(envelope.content, policy=email.policy.SMTP)
        body = message.get_body().get_content()
        self.received.append((envelope.rcpt_tos, body))
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def mail_server():
    handler = SlowMailServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def portal(tmp_path_factory, mail_server):
    """Serve the portal as `make serve` does (gunicorn, one worker so that a
    test knows which one to kill), without its task worker: each test starts
    one when it wants mail to leave."""
    tmp_dir = tmp_path_factory.mktemp("resilience")
    _, smtp_port = mail_server
    with own_database(tmp_dir, "resilience") as direct_url:
        relay = None
        database_url = direct_url
        if on_postgres():
            parts = urlsplit(direct_url)
            relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
            netloc = parts.netloc.rsplit("@", 1)
            host = f"127.0.0.1:{relay.port}"
            netloc = f"{netloc[0]}@{host}" if len(netloc) == 2 else host
            database_url = urlunsplit(parts._replace(netloc=netloc))
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}},
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "0",
            "HTTPS": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url,
            "STATIC_ROOT": str(tmp_dir / "static"),
            "MEDIA_ROOT": str(tmp_dir / "media"),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "0",
            "STAFF_EMAILS": STAFF,
            "SUBMISSION_MIN_SECONDS": "0",
            "PAGE_CACHE_SECONDS": "0",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
        }
        manage("migrate", "--noinput", env=env)
        manage("createcachetable", env=env)
        manage("load_seed", env=env)
        manage("collectstatic", "--noinput", env=env)
        log_path = tmp_dir / "gunicorn.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--config",
                    "portal/gunicorn_conf.py",
                    "portal.wsgi",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(base_url + "/healthz", server, log_path)
            yield Portal(base_url, env, direct_url, server, relay, tmp_dir)
        finally:
            stop(server)
            if relay is not None:
                relay.cut()


class Portal:
    def __init__(self, base_url, env, direct_url, server, relay, tmp_dir):
        self.base_url, self.env, self.direct_url = base_url, env, direct_url
        self.server, self.relay, self.tmp_dir = server, relay, tmp_dir

    def get(self, path):
        """GET a path; return (status, headers, body)."""
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=30) as response:
                body = response.read()
                status, headers = response.status, response.headers
        except urllib.error.HTTPError as error:
            body, status, headers = error.read(), error.code, error.headers
        return status, headers, body

    def submit(self, title):
        """Send the call for ideas' form as a browser would; return the status."""
        jar = CookieJar()
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), NoRedirect()
        )
        form = opener.open(self.base_url + "/proposer/", timeout=30).read().decode()

        def value(name):
            return re.search(rf'name="{name}" value="([^"]*)"', form)[1]

        data = {
            "csrfmiddlewaretoken": value("csrfmiddlewaretoken"),
            "started": value("started"),
            "collectivity_query": "Béthune",
            "title": title,
            "summary": "Un guichet pour aider aux démarches en ligne.",
            "description": "Des agents accompagnent les habitants.",
            "category": value("category"),
            "themes": value("themes"),
            "period": "lockdown2",
            "submitter_name": "Camille Martin",
            "submitter_email": SUBMITTER,
            "submitter_role": "Chargée de mission numérique",
            "has_consented": "on",
        }
        request = urllib.request.Request(
            self.base_url + "/proposer/",
            data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.base_url + "/proposer/"},
        )
        try:
            return opener.open(request, timeout=30).status
        except urllib.error.HTTPError as error:
            return error.code

    def query(self, sql, params=()):
        """Read the server's database directly."""
        if on_postgres():
            with psycopg.connect(self.direct_url) as connection:
                return connection.execute(sql.replace("?", "%s"), params).fetchall()
        path = dj_database_url.parse(self.env["DATABASE_URL"])["NAME"]
        with sqlite3.connect(path) as connection:
            return connection.execute(sql, params).fetchall()

    def worker_pid(self):
        """The gunicorn worker (the master's only child)."""
        children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pids = children.read_text().split()
            if pids:
                return int(pids[0])
            time.sleep(0.1)
        pytest.fail("gunicorn has no worker")

    def start_task_worker(self):
        log = (self.tmp_dir / "task_worker.log").open("a")
        return subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "task_worker",
                "--interval",
                "0.2",
                "--no-startup-delay",
            ],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def mail_states(portal, title):
    return sorted(
        portal.query(
            "SELECT recipients, status FROM core_mail WHERE body LIKE ?",
            (f"%{title}%",),
        )
    )


def wait_for(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_mail_waits_for_the_worker_and_survives_a_killed_web_worker(
    portal, mail_server
):
    received = mail_server[0].received
    title = "Un guichet numérique de quartier"
    worker = portal.worker_pid()

    assert portal.submit(title) == 302
    # The web worker dies right after answering, as on a deploy's HUP, a
    # recycling or an OOM kill: nothing it was doing in the background survives.
    os.kill(worker, signal.SIGKILL)
    assert mail_states(portal, title) == sorted(
        [(STAFF, "pending"), (SUBMITTER, "pending")]
    )
    time.sleep(2 * SMTP_DELAY)
    assert not [m for m in received if title in m[1]], "sent without a worker"

    task_worker = portal.start_task_worker()
    try:
        assert wait_for(lambda: len([m for m in received if title in m[1]]) == 2)
    finally:
        stop(task_worker)
    recipients = sorted(rcpt[0] for rcpt, body in received if title in body)
    assert recipients == sorted([STAFF, SUBMITTER])
    assert mail_states(portal, title) == sorted([(STAFF, "sent"), (SUBMITTER, "sent")])
    # The web worker was replaced and serves again.
    assert wait_for(lambda: portal.get("/healthz")[0] == 200)


def test_a_mail_server_that_is_down_is_retried_later(portal):
    title = "Une plateforme de prêt de tablettes"
    script = (
        "from django.test import override_settings\n"
        "from django.utils import timezone\n"
        "from django_tasks_db.models import DBTaskResult, get_date_max\n"
        "from core.mail import deliver\n"
        "from core.models import Mail\n"
        "down = {'default': {'BACKEND': 'django.core.mail.backends.smtp."
        "EmailBackend', 'OPTIONS': {'host': '127.0.0.1', 'port': 1}}}\n"
        f"mails = Mail.objects.filter(body__contains={title!r})\n"
        "with override_settings(MAILERS=down):\n"
        "    outcomes = [deliver.call(mail.pk) for mail in mails]\n"
        "later = DBTaskResult.objects.filter(status='READY', run_after__gt="
        "timezone.now()).exclude(run_after=get_date_max())\n"
        "print('result:', later.count(), *outcomes)\n"
    )
    assert portal.submit(title) == 302
    output = manage("shell", "-c", script, env=portal.env).stdout
    later, *outcomes = output.split("result:")[-1].split()
    assert outcomes == ["retry", "retry"]
    assert int(later) >= 2  # the next attempts wait: back-off
    rows = portal.query(
        "SELECT status, attempts, last_error FROM core_mail WHERE body LIKE ?",
        (f"%{title}%",),
    )
    assert [(status, attempts) for status, attempts, _ in rows] == [("pending", 1)] * 2
    assert all("ConnectionRefusedError" in error for _, _, error in rows)


def test_an_after_commit_failure_keeps_the_committed_image(portal):
    script = (
        "from django.core.files.uploadedfile import SimpleUploadedFile\n"
        "from django.db import transaction\n"
        "from PIL import Image\n"
        "import io\n"
        "from core.images import sanitize_image\n"
        "from initiatives.models import Category, Collectivity, Initiative\n"
        "from surveys import submissions\n"
        "from surveys.models import Survey\n"
        "buffer = io.BytesIO(); Image.new('RGB', (40, 30), 'red').save(buffer, 'PNG')\n"
        "image = sanitize_image(SimpleUploadedFile('a.png', buffer.getvalue()))\n"
        "initiative = Initiative(title='Une photo', summary='R', description='D',\n"
        "    collectivity=Collectivity.objects.get(code='62119'),\n"
        "    category=Category.objects.first(), image_alt='Une photo')\n"
        "initiative.attach_image(image)\n"
        "def fail():\n"
        "    raise RuntimeError('a hook failed after the commit')\n"
        "def queue(submission):\n"
        "    transaction.on_commit(fail)\n"
        "submissions.queue_submission_mails = queue\n"
        "try:\n"
        "    submissions.create_submission(Survey.objects.first(), initiative, {})\n"
        "except RuntimeError:\n"
        "    pass\n"
        "stored = Initiative.objects.get(pk=initiative.pk)\n"
        "exists = stored.image.storage.exists(stored.image.name)\n"
        "print('stored:', stored.image.name, exists)\n"
    )
    output = manage("shell", "-c", script, env=portal.env).stdout
    name, exists = output.split("stored:")[-1].split()
    assert name.startswith("initiatives/")
    assert exists == "True"


needs_postgres = pytest.mark.skipif(
    not on_postgres(),
    reason="an outage of a database server: runs in the CI job on PostgreSQL",
)


@needs_postgres
def test_a_database_outage_answers_503_then_recovers(portal):
    assert portal.get("/initiatives/")[0] == 200
    portal.relay.cut()
    try:
        for path in [
            "/",
            "/initiatives/",
            "/initiatives/?theme=teletravail",
            "/api/v1/initiatives/",
            "/donnees/initiatives.csv",
        ]:
            # How fast is measured by hand (README, « Panne de la base »): no
            # timing in tests.
            status, headers, body = portal.get(path)
            assert status == 503, path
            assert headers["Retry-After"] == "30"
            if path.startswith("/api/"):
                assert "indisponible" in json.loads(body)["detail"]
            else:
                assert "momentanément indisponible" in body.decode()
        status, _, body = portal.get("/healthz")
        assert status == 503
        assert json.loads(body)["checks"]["database"] == "unavailable"
    finally:
        portal.relay.restore()
    assert wait_for(lambda: portal.get("/initiatives/")[0] == 200, timeout=10)
    assert portal.get("/api/v1/initiatives/")[0] == 200
    assert json.loads(portal.get("/healthz")[2])["status"] in ("ok", "degraded")


@needs_postgres
def test_the_task_worker_waits_out_a_database_outage(portal, mail_server):
    received = mail_server[0].received
    worker = portal.start_task_worker()
    try:
        time.sleep(2)
        portal.relay.cut()
        time.sleep(4)  # the worker's next looks at the queue fail
        assert worker.poll() is None, "the worker stopped with the database"
        portal.relay.restore()
        title = "Une idée envoyée après la panne"
        assert wait_for(lambda: portal.submit(title) == 302, timeout=15)
        assert wait_for(
            lambda: len([m for m in received if title in m[1]]) == 2, timeout=40
        )
    finally:
        portal.relay.restore()
        stop(worker)
