"""Two hosts share nothing but the database, the cache and the object store:
the cluster of `make cluster` (bench/cluster.py), through its load balancer
and host by host. `make test-cluster` runs these (`.ci/run` does, once).

Each test speaks for a client of its own (X-Forwarded-For, which the hosts
trust from one proxy) so that the rate limits of one do not touch another."""

import email
import email.policy
import http.cookiejar
import io
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from PIL import Image

sys.path.insert(0, str(Path(settings.BASE_DIR) / "bench"))
from cluster import Cluster

from tests.servers import free_port

pytestmark = pytest.mark.cluster

STAFF = "equipe@example.org"
PASSWORD = "mot-de-passe-du-test-de-grappe"
SANDBOX = "default-src 'none'; sandbox"


class Sink:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.SMTP)
        self.received.append((envelope.rcpt_tos, message.get_body().get_content()))
        return "250 OK"


@pytest.fixture(scope="module")
def mails():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, mails):
    _, port = mails
    workdir = tmp_path_factory.mktemp("cluster")
    with Cluster(
        workdir,
        database="portal_cluster_test",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        EMAIL_USE_TLS="0",
        STAFF_EMAILS=STAFF,
        SUBMISSION_MIN_SECONDS="0",
        SUBMISSIONS_PER_HOUR="2",
        API_ANONYMOUS_RATE="4/minute",
    ) as running:
        running.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            f"User.objects.create_superuser('equipe', '{STAFF}', '{PASSWORD}')",
        )
        enrolment = running.manage("setup_totp", "equipe")
        # Each login spends one backup code: a one-time code may not serve twice.
        running.backup_codes = re.findall(r"^  (\w{8})$", enrolment, re.M)
        yield running


class Browser:
    """A client with its own cookies and its own address (X-Forwarded-For)."""

    def __init__(self):
        self.address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def open(self, url, data=None, files=None):
        headers = {"X-Forwarded-For": self.address, "Referer": url}
        body = None
        if files:
            body, content_type = multipart(data, files)
            headers["Content-Type"] = content_type
        elif data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
        request = urllib.request.Request(url, data=body, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def form(self, url):
        """GET a page; give its form's hidden and pre-filled values."""
        _, _, body = self.open(url)
        page = body.decode()
        return page, dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def multipart(data, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, values in data.items():
        for value in values if isinstance(values, list) else [values]:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                f"\r\n\r\n{value}\r\n".encode()
            )
    for name, (filename, content, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def answer(hidden, title, **changes):
    """The call for ideas' form, filled: `hidden` holds its token and choices."""
    page_category = hidden.get("category")
    data = {
        "csrfmiddlewaretoken": hidden["csrfmiddlewaretoken"],
        "started": hidden["started"],
        "collectivity_query": "Béthune",
        "title": title,
        "summary": "Un guichet pour aider aux démarches en ligne.",
        "description": "Des agents accompagnent les habitants.",
        "category": page_category,
        "themes": hidden["themes"],
        "period": "lockdown2",
        "submitter_name": "Camille Martin",
        "submitter_email": "camille.martin@example.org",
        "submitter_role": "Chargée de mission numérique",
        "has_consented": "on",
    }
    data.update(changes)
    return data


def photo(size=(1600, 1200)):
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def query(cluster, sql, params=()):
    with psycopg.connect(cluster.env()["DATABASE_URL"]) as connection:
        return connection.execute(sql, params).fetchall()


def submissions_titled(cluster, title):
    return query(
        cluster,
        "SELECT s.id FROM surveys_submission s JOIN initiatives_initiative i "
        "ON i.id = s.initiative_id WHERE i.title = %s",
        (title,),
    )


def wait_for(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def test_the_load_balancer_spreads_requests_over_both_hosts(cluster):
    browser = Browser()
    for _ in range(6):
        status, headers, _ = browser.open(cluster.front + "/healthz")
        assert status == 200
    logs = [(cluster.workdir / f"host-{name}.log").read_text() for name in "ab"]
    assert all("/healthz" in log for log in logs)


def test_a_form_shown_by_one_host_is_accepted_by_the_other(cluster):
    browser = Browser()
    _, hidden = browser.form(cluster.host_url("a") + "/proposer/")
    title = "Une idée montrée par A, reçue par B"
    status, headers, _ = browser.open(
        cluster.host_url("b") + "/proposer/", answer(hidden, title)
    )
    assert status == 302 and headers["Location"] == "/proposer/merci/"
    assert len(submissions_titled(cluster, title)) == 1


def log_in(cluster, browser, host):
    """Log the staff account into the admin of `host`; give the status."""
    login = cluster.host_url(host) + "/admin/login/?next=/admin/"
    _, hidden = browser.form(login)
    data = {
        "csrfmiddlewaretoken": hidden["csrfmiddlewaretoken"],
        "username": "equipe",
        "password": PASSWORD,
        "otp_token": cluster.backup_codes.pop(),
    }
    status, headers, _ = browser.open(login, data)
    return status, headers.get("Location")


def test_a_staff_session_opened_on_one_host_works_on_the_other(cluster):
    browser = Browser()
    assert log_in(cluster, browser, "a") == (302, "/admin/")
    status, _, body = browser.open(cluster.host_url("b") + "/admin/")
    assert status == 200
    assert "Gestion du catalogue" in body.decode()


def test_an_image_uploaded_through_one_host_is_served_by_the_other(cluster):
    browser = Browser()
    _, hidden = browser.form(cluster.host_url("b") + "/proposer/")
    title = "Une photo envoyée à B"
    data = answer(hidden, title, image_alt="La façade de la mairie")
    status, _, _ = browser.open(
        cluster.host_url("b") + "/proposer/",
        data,
        files={"image": ("facade.jpg", photo((400, 300)), "image/jpeg")},
    )
    assert status == 302
    [(name,)] = query(
        cluster, "SELECT image FROM initiatives_initiative WHERE title = %s", (title,)
    )
    stored = cluster.store.client().get_object(Bucket="portal-media", Key=name)
    content = stored["Body"].read()
    status, headers, body = Browser().open(f"{cluster.host_url('a')}/media/{name}")
    assert status == 200 and body == content
    assert headers["Content-Security-Policy"] == SANDBOX
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Type"] == "image/jpeg"
    # Neither host kept a file: the bucket is their only media storage.
    for host in "ab":
        assert not any((cluster.workdir / f"media-{host}").rglob("*.*"))
    # The bucket itself lists nothing to anyone without its keys.
    status, _, _ = Browser().open(f"{cluster.store.endpoint}/portal-media/")
    assert status == 403


def test_a_submission_limit_counts_across_hosts(cluster):
    browser = Browser()
    statuses = []
    for number, host in enumerate(["a", "b", "a"]):
        _, hidden = browser.form(cluster.host_url(host) + "/proposer/")
        data = answer(hidden, f"Une idée de plus, numéro {number}")
        statuses.append(browser.open(cluster.host_url(host) + "/proposer/", data)[0])
    assert statuses == [302, 302, 429]  # two an hour, whatever the host


def test_an_api_throttle_counts_across_hosts(cluster):
    browser = Browser()
    statuses = [
        browser.open(cluster.host_url(host) + "/api/v1/themes/")[0]
        for host in ["a", "b", "a", "b", "a"]
    ]
    assert statuses == [200, 200, 200, 200, 429]


def test_a_publication_on_one_host_is_seen_by_the_other_at_once(cluster):
    visitor, staff = Browser(), Browser()
    _, hidden = visitor.form(cluster.host_url("a") + "/proposer/")
    title = "Une médiathèque publiée par A"
    assert visitor.open(cluster.host_url("a") + "/proposer/", answer(hidden, title))[0]
    search = (
        cluster.host_url("b")
        + "/initiatives/?"
        + urllib.parse.urlencode({"q": "médiathèque publiée"})
    )
    # B serves the list from the shared page cache (no cookie: a visitor).
    assert title not in Browser().open(search)[2].decode()
    assert title not in Browser().open(search)[2].decode()
    assert log_in(cluster, staff, "a") == (302, "/admin/")
    [(pk,)] = query(
        cluster, "SELECT id FROM initiatives_initiative WHERE title = %s", (title,)
    )
    queue = cluster.host_url("a") + "/admin/surveys/pendinginitiative/"
    _, form = staff.form(queue)
    status, _, _ = staff.open(
        queue,
        {
            "csrfmiddlewaretoken": form["csrfmiddlewaretoken"],
            "action": "publish",
            "_selected_action": [pk],
        },
    )
    assert status == 302
    assert wait_for(lambda: title in Browser().open(search)[2].decode(), timeout=5)


def test_a_host_killed_mid_submission_loses_nothing(cluster, mails):
    sink, _ = mails
    browser = Browser()
    _, hidden = browser.form(cluster.host_url("b") + "/proposer/")
    title = "Une idée envoyée pendant que B tombe"
    data = answer(hidden, title, image_alt="Une photo lourde à décoder")
    files = {"image": ("lourde.jpg", photo(), "image/jpeg")}
    outcome = []

    def send():
        try:
            outcome.append(
                browser.open(cluster.host_url("b") + "/proposer/", data, files)
            )
        except OSError as error:  # B died with the request: no answer
            outcome.append(error)

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(0.3)  # the request is in B's hands, decoding the photo
    cluster.kill_host("b")
    sender.join(timeout=60)
    # The visitor sends again, through the load balancer: A answers.
    status, headers, _ = browser.open(cluster.front + "/proposer/", data, files)
    assert status == 302 and headers["Location"] == "/proposer/merci/"
    assert len(submissions_titled(cluster, title)) == 1
    assert wait_for(
        lambda: len([m for m in sink.received if title in m[1]]) == 2, timeout=30
    )
    time.sleep(2)
    assert len([m for m in sink.received if title in m[1]]) == 2  # once each
    cluster.start_host("b")


def test_a_lost_answer_sent_again_makes_one_submission(cluster):
    browser = Browser()
    _, hidden = browser.form(cluster.front + "/proposer/")
    title = "Une idée dont la réponse s'est perdue"
    data = answer(hidden, title)
    assert browser.open(cluster.host_url("b") + "/proposer/", data)[0] == 302
    assert browser.open(cluster.host_url("a") + "/proposer/", data)[0] == 302
    assert len(submissions_titled(cluster, title)) == 1


def test_without_the_object_store_uploads_fail_in_french_and_pages_answer(cluster):
    cluster.store.stop()
    browser = Browser()
    _, hidden = browser.form(cluster.front + "/proposer/")
    title = "Une photo envoyée sans stockage"
    data = answer(hidden, title, image_alt="Une photo")
    status, _, body = browser.open(
        cluster.front + "/proposer/",
        data,
        files={"image": ("photo.jpg", photo((400, 300)), "image/jpeg")},
    )
    assert status == 200
    assert "L&#x27;image n&#x27;a pas pu être enregistrée" in body.decode()
    assert not submissions_titled(cluster, title)
    reader = Browser()
    for path in [
        "/",
        "/initiatives/",
        "/initiatives/beauvais-marche-primeurs-en-ligne/",
        "/api/v1/initiatives/",
        "/healthz",
    ]:
        assert reader.open(cluster.front + path)[0] == 200, path
    assert json.loads(reader.open(cluster.front + "/healthz")[2])["status"] == "ok"
