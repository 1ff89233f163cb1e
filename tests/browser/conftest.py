"""Fixtures of the browser suite: the real portal in a subprocess, one Chromium.

The server is not pytest-django's `live_server`: its flush after each test would wipe
the seed data. It runs on its own database, seeded once, with DEBUG off, so the pages
are served as in production (WhiteNoise, collected static files).

The server and the browser live as long as this package, not the session: Playwright's
sync API keeps an asyncio loop running in the main thread, and Django refuses database
access while one runs, so a browser left open would break every later database test.
"""

import os
import re
import subprocess
import sys
import time
from base64 import b32decode
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django_otp.oath import TOTP
from playwright.sync_api import sync_playwright

from tests.browser.helpers import axe_results
from tests.servers import free_port, manage, own_database, stop, wait_until_serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Tables a browser test reports (the page weights), printed after the run's
# results, passing or not.
REPORTS = pytest.StashKey[list[str]]()
# The checks axe-core could not decide, by page: reported after the run.
AXE_INCOMPLETE = pytest.StashKey[dict[str, list[str]]]()
STAFF_USERNAME = "equipe"
STAFF_PASSWORD = "mot-de-passe-des-tests-navigateur"


def pytest_terminal_summary(terminalreporter, config):
    for report in config.stash.get(REPORTS, []):
        terminalreporter.write_line(report)
    if AXE_INCOMPLETE in config.stash:
        terminalreporter.write_line(
            _axe_incomplete_report(config.stash[AXE_INCOMPLETE])
        )


def _axe_incomplete_report(incomplete):
    """List, page by page, the checks axe-core could not decide."""
    if not any(incomplete.values()):
        return f"axe-core decided every check on the {len(incomplete)} pages it ran on."
    lines = ["axe-core could not decide (incomplete, to check by hand):"]
    for page, results in incomplete.items():
        lines += [f"{page}: {result}" for result in results]
    return "\n".join(lines)


@pytest.fixture(scope="package")
def _portal(tmp_path_factory):
    """Serve the seeded portal with `runserver`; yield its base URL and the secret
    key of the staff account's authenticator."""
    tmp_dir = tmp_path_factory.mktemp("browser")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with own_database(tmp_dir, "browser") as database_url:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "0",
            "SECRET_KEY": "browser-tests-only",
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_ROOT": str(tmp_dir / "static"),
            "MEDIA_ROOT": str(tmp_dir / "media"),
            "DATABASE_URL": database_url,
            "SUBMISSION_MIN_SECONDS": "1",
            # Schemathesis sends hundreds of requests: test the throttle elsewhere.
            "API_ANONYMOUS_RATE": "100000/minute",
            "DJANGO_SUPERUSER_PASSWORD": STAFF_PASSWORD,
        }
        manage("migrate", "--noinput", env=env)
        manage("createcachetable", env=env)
        manage("load_seed", env=env)
        manage(
            "createsuperuser",
            "--noinput",
            "--username",
            STAFF_USERNAME,
            "--email",
            "equipe@example.org",
            env=env,
        )
        enrolment = manage("setup_totp", STAFF_USERNAME, env=env).stdout
        totp_key = b32decode(re.search(r"secret=([A-Z2-7]+)", enrolment)[1])
        manage("collectstatic", "--noinput", env=env)
        log_path = tmp_dir / "server.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "runserver",
                    f"127.0.0.1:{port}",
                    "--noreload",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_serving(base_url + "/", server, log_path)
            yield base_url, totp_key
        finally:
            stop(server)


@pytest.fixture(scope="package")
def live_url(_portal):
    return _portal[0]


class OneTimeCodes:
    """The staff's authenticator app. Each call gives a code the server has not
    seen yet, waiting for the next 30-second step if need be: it refuses replays."""

    def __init__(self, key):
        self._totp = TOTP(key)
        self._last_t = None

    def __call__(self):
        self._totp.time = time.time()
        while self._totp.t() == self._last_t:
            time.sleep(0.5)
            self._totp.time = time.time()
        self._last_t = self._totp.t()
        return f"{self._totp.token():06d}"


@pytest.fixture(scope="package")
def staff_codes(_portal):
    return OneTimeCodes(_portal[1])


def log_into_admin(page, staff_codes):
    """Log the staff account into the admin through its login form."""
    page.goto("/admin/")
    page.get_by_label("Nom d’utilisateur").fill(STAFF_USERNAME)
    page.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
    page.get_by_label("Code à usage unique").fill(staff_codes())
    page.get_by_role("button", name="Connexion").click()


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM}: "
            "install it with `apt-get install chromium`."
        )
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


def _new_page(browser, live_url, **options):
    context = browser.new_context(base_url=live_url, locale="fr-FR", **options)
    # The server is local: a missing element should fail fast, not after 30 s.
    context.set_default_timeout(5_000)
    context.set_default_navigation_timeout(15_000)
    return context, context.new_page()


@pytest.fixture
def axe_check(request):
    """Check the page shown with axe-core: fail on any WCAG 2.1 A/AA violation
    and on colour contrast axe could not decide (the page must let it decide);
    record the other undecided checks for the report after the run."""

    def check(page, name=None):
        violations, incomplete = axe_results(page)
        name = name or urlsplit(page.url)._replace(scheme="", netloc="").geturl()
        request.config.stash.setdefault(AXE_INCOMPLETE, {})[name] = incomplete
        assert not violations, "axe-core (WCAG 2.1 A/AA):\n" + "\n".join(violations)
        contrast = [line for line in incomplete if line.startswith("color-contrast")]
        assert not contrast, "axe-core could not decide contrast:\n" + "\n".join(
            contrast
        )

    return check


@pytest.fixture
def requests_seen():
    """The URL of every request the `page` fixture made, in order."""
    return []


@pytest.fixture
def page(browser, live_url, requests_seen):
    context, page = _new_page(browser, live_url)
    page.on("request", lambda request: requests_seen.append(request.url))
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser, live_url):
    context, page = _new_page(browser, live_url, java_script_enabled=False)
    yield page
    context.close()
