"""Every public page, in Chromium: accessible, self-hosted, readable without JS."""

import pytest

from tests.browser.helpers import other_host_requests

pytestmark = pytest.mark.browser

PAGES = [
    ("/", 200),
    ("/initiatives/", 200),
    ("/initiatives/?department=13", 200),
    ("/initiatives/?q=teletravail", 200),
    ("/initiatives/beauvais-marche-primeurs-en-ligne/", 200),
    ("/collectivites/", 200),
    ("/collectivites/martigues-13/", 200),
    ("/departements/", 200),
    ("/departements/13/", 200),
    ("/departements/?theme=teletravail", 200),
    ("/themes/teletravail/", 200),
    ("/chiffres-cles/", 200),
    ("/enquete/", 200),
    ("/vigilance/", 200),
    ("/vigilance/cybersecurite/", 200),
    ("/a-propos/", 200),
    ("/mentions-legales/", 200),
    ("/confidentialite/", 200),
    ("/accessibilite/", 200),
    ("/proposer/", 200),
    ("/donnees/", 200),
    ("/api/", 200),
    ("/initiatives/?department=zz", 200),
    ("/page-inexistante/", 404),
]
every_page = pytest.mark.parametrize(
    ("path", "status"), PAGES, ids=[path for path, _ in PAGES]
)


@every_page
def test_page_has_no_accessibility_violations(page, axe_check, path, status):
    response = page.goto(path)

    assert response.status == status
    axe_check(page, path)


@every_page
def test_page_requests_nothing_from_another_host(
    page, requests_seen, live_url, path, status
):
    response = page.goto(path, wait_until="networkidle")

    assert response.status == status
    assert other_host_requests(requests_seen, live_url) == []


@every_page
def test_page_renders_without_javascript(page_without_js, path, status):
    response = page_without_js.goto(path)

    assert response.status == status
    main = page_without_js.get_by_role("main")
    assert main.count() == 1, "one `main` landmark"
    headings = page_without_js.locator("h1")
    assert headings.count() == 1, "exactly one h1"
    assert headings.inner_text().strip()
    assert len(main.inner_text()) > len(headings.inner_text()), "content under the h1"


def test_api_documentation_is_served_by_the_site(page, requests_seen, live_url):
    response = page.goto("/api/v1/docs/", wait_until="networkidle")

    assert response.status == 200
    assert page.locator("#swagger-ui").count() == 1
    assert not other_host_requests(requests_seen, live_url)
