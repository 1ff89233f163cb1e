"""The Content-Security-Policy in Chromium: every page, the admin login and the API
documentation run under it without a violation, an error or a third-party request."""

import pytest

from tests.browser.conftest import log_into_admin
from tests.browser.helpers import other_host_requests
from tests.browser.test_pages import PAGES

pytestmark = pytest.mark.browser

CSP_PAGES = [*PAGES, ("/admin/login/", 200), ("/api/v1/docs/", 200)]


@pytest.fixture
def console(page):
    """Every console message and uncaught error of the `page` fixture."""
    messages = []
    page.on("console", lambda message: messages.append(message))
    page.on("pageerror", lambda error: messages.append(error))
    return messages


def _problems(messages, url, status):
    problems = []
    for message in messages:
        if isinstance(message, Exception):
            problems.append(f"uncaught: {message}")
            continue
        text = message.text
        # Chromium reports a page's own error status as a failed resource.
        own_status = status != 200 and message.location.get("url") == url
        if own_status and text.startswith("Failed to load resource"):
            continue
        if message.type == "error" or "Content Security Policy" in text:
            problems.append(f"{message.type}: {text} ({message.location.get('url')})")
    return problems


@pytest.mark.parametrize(
    ("path", "status"), CSP_PAGES, ids=[path for path, _ in CSP_PAGES]
)
def test_page_runs_under_the_csp(page, console, requests_seen, live_url, path, status):
    response = page.goto(path, wait_until="networkidle")

    assert response.status == status
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert _problems(console, response.url, status) == []
    assert other_host_requests(requests_seen, live_url) == []


def test_api_documentation_renders_under_the_csp(page, console):
    page.goto("/api/v1/docs/", wait_until="networkidle")

    page.locator("#swagger-ui .opblock").first.wait_for()
    assert _problems(console, page.url, 200) == []


ADMIN_PAGES = [
    "/admin/",
    "/admin/initiatives/initiative/",
    "/admin/initiatives/initiative/1/change/",
    "/admin/initiatives/initiative/add/",
    "/admin/initiatives/collectivity/?q=Martigues",
    "/admin/surveys/pendinginitiative/",
    "/admin/surveys/submission/importer/",
    "/admin/initiatives/initiative/1/history/",
    "/admin/qualite/",
    "/admin/auth/user/",
]


def test_logged_in_admin_runs_under_the_csp(
    page, console, requests_seen, live_url, staff_codes
):
    log_into_admin(page, staff_codes)
    page.wait_for_url("**/admin/")
    for path in ADMIN_PAGES:
        response = page.goto(path, wait_until="networkidle")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        # The autocomplete widgets and the admin's own scripts actually run.
        assert _problems(console, response.url, 200) == [], path
    assert other_host_requests(requests_seen, live_url) == []
