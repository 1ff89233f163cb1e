import datetime
import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory, override_settings
from django.urls import reverse

from core.logs import (
    JsonFormatter,
    RequestContextFilter,
    hash_address,
    hashed_address,
    mask_email,
)
from initiatives.models import Initiative
from surveys import submissions
from tests.factories import InitiativeFactory
from tests.surveys.test_submissions import NO_WAIT, answer, post

pytestmark = pytest.mark.django_db

FIELDS = {"timestamp", "level", "logger", "event", "request_id", "client"}


@pytest.fixture
def security_lines():
    """Collect what `portal.security` writes, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    security = logging.getLogger("portal.security")
    security.addHandler(handler)
    cache.clear()
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        security.removeHandler(handler)


def only(lines, event):
    """Return the one line of `event`, checking it has every common field."""
    matching = [line for line in lines if line["event"] == event]
    assert len(matching) == 1, lines
    line = matching[0]
    assert FIELDS <= set(line)
    assert datetime.datetime.fromisoformat(line["timestamp"]).tzinfo is not None
    assert line["logger"] == "portal.security"
    assert line["request_id"] not in ("", None)
    return line


def login_request(address="192.0.2.10"):
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR=address)
    request.id = "login-request-0001"
    return request


def test_login_failure_logs_the_username_not_the_password(
    security_lines, django_user_model
):
    django_user_model.objects.create_user("agent", password="le-bon-mot-de-passe")
    user = authenticate(login_request(), username="agent", password="mauvais-secret")
    assert user is None
    line = only(security_lines(), "login_failed")
    assert line["level"] == "WARNING"
    assert line["user"] == "agent"
    assert line["request_id"] == "login-request-0001"
    assert line["client"] == hash_address("192.0.2.10")
    text = json.dumps(security_lines())
    assert "mauvais-secret" not in text
    assert "192.0.2.10" not in text


def test_login_success_is_logged(security_lines, client, django_user_model):
    user = django_user_model.objects.create_user("agent", "agent@example.org")
    client.force_login(user)
    line = only(security_lines(), "login_succeeded")
    assert line["level"] == "INFO"
    assert line["user"] == "agent"


def test_email_usernames_are_masked(security_lines):
    authenticate(
        login_request(), username="claire.dupont@example.org", password="secret-123"
    )
    line = only(security_lines(), "login_failed")
    assert line["user"] == "c***@example.org"
    assert "claire.dupont" not in json.dumps(line)


def test_mask_email_keeps_first_letter_and_domain():
    assert mask_email("claire@example.org") == "c***@example.org"
    assert mask_email("écrire à a.b@mairie.fr") == "écrire à a***@mairie.fr"
    assert mask_email("pas d'adresse") == "pas d'adresse"


def test_lockout_is_logged(security_lines):
    from axes.signals import user_locked_out

    request = login_request()
    user_locked_out.send("axes", request=request, username="agent", ip_address="x")
    line = only(security_lines(), "lockout")
    assert line["user"] == "agent"
    assert line["client"] == hash_address("192.0.2.10")


def test_second_factor_failure_is_logged(security_lines, django_user_model):
    from django_otp.forms import otp_verification_failed

    user = django_user_model.objects.create_user("agent")
    otp_verification_failed.send(sender=None, user=user, token="123456")
    line = only(security_lines(), "otp_failed")
    assert line["user"] == "agent"
    assert "123456" not in json.dumps(line)


def test_moderation_decision_is_logged(security_lines, staff_user):
    staff_user.email = staff_user.username = "moderatrice@example.org"
    initiative = InitiativeFactory(status=Initiative.Status.SUBMITTED)
    submissions.decide([initiative], staff_user, Initiative.Status.PUBLISHED)
    line = only(security_lines(), "moderation_decision")
    assert line["status"] == "published"
    assert line["count"] == 1
    assert line["initiatives"] == [initiative.slug]
    assert line["reviewer"] == "m***@example.org"


@NO_WAIT
def test_refused_upload_is_logged(security_lines, client):
    upload = SimpleUploadedFile("photo.png", b"<html>pas une image</html>")
    response = post(client, answer(image=upload, image_alt="Une photo"))
    assert response.status_code == 200
    line = only(security_lines(), "upload_refused")
    assert line["reasons"] == ["not_an_image"]
    assert line["request_id"] == response["X-Request-ID"]
    assert line["client"] == hash_address("127.0.0.1")
    assert "camille" not in json.dumps(line)


@NO_WAIT
@override_settings(SUBMISSIONS_PER_HOUR=0)
def test_submission_rate_limit_is_logged(security_lines, client):
    response = post(client, answer())
    assert response.status_code == 429
    line = only(security_lines(), "rate_limited")
    assert line["limit"] == "submissions"
    assert line["request_id"] == response["X-Request-ID"]


@override_settings(API_ANONYMOUS_RATE="1/minute")
def test_api_throttle_is_logged(security_lines, client):
    url = reverse("api:theme-list")
    assert client.get(url).status_code == 200
    response = client.get(url)
    assert response.status_code == 429
    line = only(security_lines(), "rate_limited")
    assert line["limit"] == "api"
    assert line["path"] == url
    assert line["request_id"] == response["X-Request-ID"]


def test_request_id_is_returned(client):
    response = client.get("/")
    assert len(response["X-Request-ID"]) == 32
    assert client.get("/")["X-Request-ID"] != response["X-Request-ID"]


def test_valid_request_id_is_reused(client):
    response = client.get("/", headers={"X-Request-ID": "proxy-4f2a9c1d-0001"})
    assert response["X-Request-ID"] == "proxy-4f2a9c1d-0001"


@pytest.mark.parametrize(
    "sent", ["a" * 200, "abcdefgh\nevent=forged", "short", "<script>x</script>"]
)
def test_invalid_request_id_is_replaced(client, sent):
    response = client.get("/", headers={"X-Request-ID": sent})
    assert response["X-Request-ID"] != sent
    assert len(response["X-Request-ID"]) == 32


def test_hashed_address_is_not_the_address():
    hashed = hash_address("203.0.113.7")
    assert "203.0.113.7" not in hashed
    assert hashed == hash_address("203.0.113.7")
    assert hashed != hash_address("203.0.113.8")


def handlers_of(logger, **env):
    """Name the handlers `logger` gets under the given environment."""
    script = (
        "import django, logging; django.setup(); print(' '.join(type(h).__name__ "
        f"for h in logging.getLogger({logger!r}).handlers))"
    )
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **env}
    result = subprocess.run(
        [sys.executable, "-c", script], env=environ, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_errors_are_mailed_to_administrators_in_production_only():
    production = {"DEBUG": "0", "SECRET_KEY": "x" * 50}
    mailed = handlers_of("django.request", ADMIN_EMAILS="ops@example.org", **production)
    assert mailed == ["AdminMailHandler"]
    assert handlers_of("django.request", ADMIN_EMAILS="", **production) == []
    assert (
        handlers_of("django.request", ADMIN_EMAILS="ops@example.org", DEBUG="1") == []
    )
    assert handlers_of("portal.security", DEBUG="1") == ["StreamHandler"]


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_forwarded_address_is_hashed():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4"
    )
    assert hashed_address(request) == hash_address("198.51.100.4")
