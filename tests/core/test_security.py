"""The HTTP security contract: headers on every kind of route, no leaks, health
endpoint, the project's system checks, the production profile and a cache that
may go down."""

import datetime
import json
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import checks
from core.cache import ResilientRedisCache
from core.mail import queue_mail
from initiatives import api as api_views
from portal import views
from surveys import submissions

pytestmark = pytest.mark.django_db

DETAIL_SLUG = "beauvais-marche-primeurs-en-ligne"
HTML_ROUTES = [
    "/",
    "/initiatives/?department=13",
    f"/initiatives/{DETAIL_SLUG}/",
    "/proposer/",
    "admin:login",
]
OPEN_DATA_ROUTES = [
    "/api/v1/initiatives/",
    f"/api/v1/initiatives/{DETAIL_SLUG}/",
    "/api/v1/schema/",
]
NOT_FOUND_ROUTES = ["/page-inexistante/", "/api/v1/inexistant/"]
PERMISSIONS_DENIED = ["camera", "microphone", "geolocation", "payment", "usb"]
# No page may run a script the site did not serve, nor be framed or re-based.
STRICT_CSP = {
    "default-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
    "style-src": {"'self'"},
}
SANDBOX = "default-src 'none'; sandbox"
UNREACHABLE_REDIS = {
    "BACKEND": "core.cache.ResilientRedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
}
BROKEN_REDIS = {
    "default": UNREACHABLE_REDIS,
    "ratelimit": {**UNREACHABLE_REDIS, "KEY_PREFIX": "ratelimit"},
}


def url_of(route):
    return route if route.startswith("/") else reverse(route)


def parse_csp(header):
    directives = {}
    for directive in header.split(";"):
        name, *values = directive.split()
        directives[name] = set(values)
    return directives


@pytest.fixture
def https(settings):
    """The production profile behind its TLS-terminating proxy."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    return {"HTTP_X_FORWARDED_PROTO": "https"}


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    (root / "initiatives").mkdir(parents=True)
    (root / "initiatives" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (root / "initiatives" / "page.html").write_text("<script>alert(1)</script>")
    (tmp_path / "secret.txt").write_text("not for the public")
    settings.MEDIA_ROOT = root
    return root


def assert_common_headers(response):
    headers = response.headers
    hsts = headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    policy = headers["Permissions-Policy"]
    for feature in PERMISSIONS_DENIED:
        assert f"{feature}=()" in policy
    assert "Server" not in headers


def assert_strict_csp(response):
    csp = parse_csp(response.headers["Content-Security-Policy"])
    for directive, values in STRICT_CSP.items():
        assert csp[directive] == values, directive
    script_src = csp["script-src"]
    assert "'self'" in script_src
    assert not {"'unsafe-inline'", "'unsafe-eval'"} & (script_src | csp["default-src"])
    assert script_src <= {"'self'"} | {v for v in script_src if v.startswith("'nonce-")}
    return csp


@pytest.mark.parametrize("route", HTML_ROUTES)
def test_pages_send_every_security_header(client, https, route):
    response = client.get(url_of(route), **https)

    assert response.status_code == 200
    assert_common_headers(response)
    assert_strict_csp(response)
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    for cookie in response.cookies.values():
        assert cookie["secure"]
        assert cookie["samesite"] == "Lax"


@pytest.mark.parametrize("route", OPEN_DATA_ROUTES)
def test_open_data_may_be_read_from_any_origin(client, https, route):
    response = client.get(route, HTTP_ORIGIN="https://ailleurs.example", **https)

    assert response.status_code == 200
    assert_common_headers(response)
    assert_strict_csp(response)
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("route", NOT_FOUND_ROUTES)
def test_not_found_pages_send_every_security_header(client, https, route):
    response = client.get(route, **https)

    assert response.status_code == 404
    assert_common_headers(response)
    assert_strict_csp(response)


def test_plain_http_is_redirected_to_https(client, https):
    response = client.get("/initiatives/")

    assert response.status_code == 301
    assert response.headers["Location"] == "https://testserver/initiatives/"


def test_script_nonce_changes_with_every_request(client, https):
    nonces = []
    for _ in range(2):
        response = client.get("/proposer/", **https)
        csp = assert_strict_csp(response)
        (header_nonce,) = [v for v in csp["script-src"] if v.startswith("'nonce-")]
        nonce = header_nonce.removeprefix("'nonce-").removesuffix("'")
        assert f'nonce="{nonce}"' in response.text
        nonces.append(nonce)

    assert nonces[0] != nonces[1]


def test_session_cookie_is_private(settings):
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_SAMESITE == "Lax"


def test_api_docs_allow_inline_styles_but_never_inline_scripts(client, https):
    response = client.get(reverse("api_docs"), **https)

    assert response.status_code == 200
    csp = parse_csp(response.headers["Content-Security-Policy"])
    assert csp["style-src"] == {"'self'", "'unsafe-inline'"}
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["frame-ancestors"] == {"'none'"}
    assert "<script>" not in response.text


def test_media_are_served_sandboxed(client, https, media_root):
    for name in ["photo.png", "page.html"]:
        response = client.get(f"/media/initiatives/{name}", **https)

        assert response.status_code == 200
        assert response.headers["Content-Security-Policy"] == SANDBOX
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert_common_headers(response)


@pytest.mark.parametrize(
    "path",
    [
        "/.git/HEAD",
        "/.env",
        "/media/../settings.py",
        "/media/%2e%2e/portal/settings.py",
        "/media/../secret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/..%2fsecret.txt",
        "/media/initiatives/",
        "/static/../portal/settings.py",
    ],
)
def test_probes_find_nothing(client, https, media_root, path):
    response = client.get(path, **https)

    assert response.status_code == 404
    body = response.content.decode()
    assert "not for the public" not in body
    assert "SECRET_KEY" not in body
    assert django_settings.SECRET_KEY not in body


@pytest.mark.parametrize("path", ["/", "/api/v1/initiatives/"])
def test_a_server_error_reveals_nothing(client, https, monkeypatch, path):
    secret = django_settings.SECRET_KEY

    def explode(*args, **kwargs):
        raise RuntimeError(f"SELECT password FROM auth_user WHERE key = '{secret}'")

    monkeypatch.setattr(views.maps, "department_map", explode)
    monkeypatch.setattr("initiatives.api.InitiativeViewSet.list", explode)
    client.raise_request_exception = False

    response = client.get(path, **https)

    assert response.status_code == 500
    body = response.content.decode()
    for leak in ["Traceback", "SELECT", "auth_user", "RuntimeError", secret]:
        assert leak not in body
    assert_common_headers(response)


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "tasks": "ok", "cache": "ok"},
    }
    assert response.headers["Content-Type"] == "application/json"
    assert "no-store" in response.headers["Cache-Control"]


def test_healthz_fails_when_the_database_does_not_answer(client, monkeypatch):
    class Unreachable:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(views, "connection", Unreachable())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "cache": "ok"},
    }
    assert response["Retry-After"] == "30"


def test_healthz_names_a_cache_that_does_not_answer(client, broken_cache):
    response = client.get("/healthz")

    assert response.status_code == 200  # pages still work, uncached
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "tasks": "ok", "cache": "unavailable"},
    }


def test_healthz_names_a_task_worker_that_is_late(client):
    mail = queue_mail("essai", "Objet", "Texte", ["a@example.org"])
    assert client.get("/healthz").json()["checks"]["tasks"] == "ok"
    DBTaskResult.objects.update(
        enqueued_at=timezone.now() - datetime.timedelta(minutes=6)
    )

    response = client.get("/healthz")

    assert mail is not None
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["tasks"] == "late"


def test_healthz_is_exempt_from_the_https_redirect(client, https):
    assert client.get("/healthz").status_code == 200


def test_security_checks_pass_on_the_real_settings():
    assert checks.check_csp_forbids_inline_scripts(None) == []
    assert checks.check_rate_limits_use_a_shared_cache(None) == []


@pytest.mark.parametrize(
    ("directive", "value"),
    [
        ("script-src", "'unsafe-inline'"),
        ("script-src", "'unsafe-eval'"),
        ("default-src", "'unsafe-inline'"),
    ],
)
def test_csp_check_fails_on_inline_scripts(settings, directive, value):
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        directive: [*settings.SECURE_CSP[directive], value],
    }

    errors = checks.check_csp_forbids_inline_scripts(None)

    assert [error.id for error in errors] == ["portal.E001"]


def test_csp_check_fails_without_a_script_nonce(settings):
    settings.SECURE_CSP = {"default-src": ["'self'"]}

    errors = checks.check_csp_forbids_inline_scripts(None)

    assert [error.id for error in errors] == ["portal.E002"]


@pytest.mark.parametrize("backend", ["locmem.LocMemCache", "dummy.DummyCache"])
def test_cache_check_fails_on_a_per_process_cache(settings, backend):
    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": f"django.core.cache.backends.{backend}"}}

    errors = checks.check_rate_limits_use_a_shared_cache(None)

    assert [error.id for error in errors] == ["portal.E003"]


def production_env(tmp_path, **extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"HTTPS", "REDIS_URL", "DEBUG", "DATABASE_URL"}
    }
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "portail.example.org",
        "EMAIL_HOST": "smtp.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
        **extra,
    }


def run_python(script, env):
    """Run `script` in a new Python process from the project's root."""
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_checks_pass_under_the_production_profile(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=django_settings.BASE_DIR,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_profile_comes_from_the_environment(tmp_path):
    env = production_env(
        tmp_path,
        DATABASE_URL="postgres://portail:secret@db.example.org:5432/portail",
        REDIS_URL="redis://cache.example.org:6379/0",
        CSRF_TRUSTED_ORIGINS="https://portail.example.org,https://www.example.org",
    )
    script = (
        "import json; from portal import settings as s; print(json.dumps({"
        "'redirect': s.SECURE_SSL_REDIRECT, 'session': s.SESSION_COOKIE_SECURE, "
        "'csrf': s.CSRF_COOKIE_SECURE, 'origins': s.CSRF_TRUSTED_ORIGINS, "
        "'cache': s.CACHES['default']['BACKEND'], "
        "'db': s.DATABASES['default']['ENGINE'], "
        "'max_age': s.DATABASES['default']['CONN_MAX_AGE'], "
        "'health': s.DATABASES['default']['CONN_HEALTH_CHECKS'], "
        "'connect_timeout': s.DATABASES['default']['OPTIONS']['connect_timeout'], "
        "'renderers': s.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES']}))"
    )
    result = run_python(script, env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "redirect": True,
        "session": True,
        "csrf": True,
        "origins": ["https://portail.example.org", "https://www.example.org"],
        "cache": "core.cache.ResilientRedisCache",
        "db": "django.db.backends.postgresql",
        "max_age": 60,
        "health": True,
        "connect_timeout": 2,
        "renderers": ["rest_framework.renderers.JSONRenderer"],
    }


def test_gunicorn_master_compiles_every_template_without_the_database(tmp_path):
    # Production profile, on a database host that does not exist: any
    # connection attempt would fail the script.
    env = production_env(
        tmp_path, DATABASE_URL="postgres://portail@db.example.org:5432/portail"
    )
    script = (
        "import django, json; django.setup()\n"
        "from django.template import engines\n"
        "from core.warmup import warm\n"
        "warm()\n"
        "loader = engines['django'].engine.template_loaders[0]\n"
        "print(json.dumps(sorted(loader.get_template_cache)))"
    )
    result = run_python(script, env)

    assert result.returncode == 0, result.stderr
    compiled = set(json.loads(result.stdout))
    templates = django_settings.BASE_DIR / "templates"
    expected = {
        path.relative_to(templates).as_posix()
        for path in templates.rglob("*")
        if path.is_file()
    }
    assert expected <= compiled
    assert {"base.html", "initiatives/initiative_list.html"} <= compiled


def test_gunicorn_does_not_name_its_version():
    import gunicorn.http.wsgi

    config = django_settings.BASE_DIR / "portal" / "gunicorn_conf.py"
    exec(compile(config.read_text(), str(config), "exec"), {})

    assert not re.search(r"\d", gunicorn.http.wsgi.SERVER)
    assert "gunicorn" not in gunicorn.http.wsgi.SERVER


@pytest.fixture
def broken_cache():
    with override_settings(CACHES=BROKEN_REDIS):
        yield caches["default"]


def test_broken_redis_reads_as_a_miss_and_writes_nothing(broken_cache):
    assert isinstance(broken_cache, ResilientRedisCache)
    assert broken_cache.get("key", "default") == "default"
    assert broken_cache.set("key", 1) is None
    assert broken_cache.add("key", 1) is False
    assert broken_cache.incr("key", 2) == 2
    assert broken_cache.get_many(["a", "b"]) == {}
    assert broken_cache.delete("key") is False


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/initiatives/?department=13",
        f"/initiatives/{DETAIL_SLUG}/",
        "/proposer/",
        "/api/v1/initiatives/",
    ],
)
def test_pages_and_api_work_without_the_cache(client, broken_cache, path):
    assert client.get(path).status_code == 200


def test_submission_rate_limit_fails_open_without_the_cache(client, broken_cache):
    request = RequestFactory().post("/proposer/")

    assert submissions.refused_by_limits(request) is None
    submissions.count_submission(request)
    response = client.post("/proposer/", {})

    assert response.status_code == 200


def test_favicon_ico_points_to_the_site_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response.headers["Location"] == "/static/favicon.svg"


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_database_that_does_not_answer_gives_503_not_500(client, monkeypatch, error):
    def unreachable(*args, **kwargs):
        raise error("server closed the connection unexpectedly")

    monkeypatch.setattr(views.Theme.objects, "all", unreachable)
    monkeypatch.setattr(api_views.ThemeViewSet, "list", unreachable)
    client.raise_request_exception = False

    page = client.get("/")
    api = client.get("/api/v1/themes/")

    assert page.status_code == api.status_code == 503
    assert page["Retry-After"] == api["Retry-After"] == "30"
    assert "Service momentanément indisponible" in page.text
    assert "indisponible" in api.json()["detail"]


def test_any_other_error_is_still_a_500(client, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(views.Theme.objects, "all", broken)
    client.raise_request_exception = False

    response = client.get("/")

    assert response.status_code == 500
    assert "Une erreur est survenue" in response.text
