"""The weight of every public page in Chromium: bytes, requests, DOM size, EcoIndex.

Each page is loaded twice in a fresh browser context: a first visit with an empty
cache, then a repeat visit, which must take static files from the cache (WhiteNoise
serves them under hashed names for a year) and gets the page itself again, or a 304
when its ETag still matches. Bytes are what went over the wire (compressed bodies
and headers), as the Chrome DevTools Protocol reports them.
Run with `-s` to see the table of figures.
"""

from typing import NamedTuple
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.browser.conftest import REPORTS
from tests.browser.ecoindex import EcoIndex, ecoindex
from tests.browser.test_pages import PAGES

pytestmark = pytest.mark.browser

WEIGHT_PAGES = [path for path, status in PAGES if status == 200]
WEIGHT_PAGES += [path for path in ("/donnees/", "/api/") if path not in WEIGHT_PAGES]
# The pages the issue names: the home, the list and a detail page must earn an A.
GRADE_A_PAGES = {
    "/",
    "/initiatives/",
    "/initiatives/beauvais-marche-primeurs-en-ligne/",
}

FIRST_VISIT_MAX_BYTES = 100_000
REPEAT_VISIT_MAX_BYTES = 20_000
MAX_REQUESTS = 10
MAX_DOM_ELEMENTS = 599
COMPRESSIONS = {"gzip", "br", "zstd"}

# An inline SVG counts as one element, as in EcoIndex's reference scraper.
COUNT_DOM_ELEMENTS = """() => {
    let count = document.getElementsByTagName("*").length;
    for (const svg of document.getElementsByTagName("svg")) {
        if (!svg.parentElement.closest("svg")) {
            count -= svg.getElementsByTagName("*").length;
        }
    }
    return count;
}"""
IMAGES_NOT_LAZY_OR_UNSIZED = """images => images
    .filter(image => image.getAttribute("loading") !== "lazy"
        || !image.hasAttribute("width") || !image.hasAttribute("height"))
    .map(image => image.outerHTML)"""


class Figures(NamedTuple):
    first_visit_bytes: int
    repeat_visit_bytes: int
    repeat_visit_static_downloads: list[str]
    requests: int
    dom_elements: int
    content_encoding: str
    images_not_lazy_or_unsized: list[str]
    favicon_status: int | None

    @property
    def ecoindex(self) -> EcoIndex:
        return ecoindex(self.dom_elements, self.requests, self.first_visit_bytes / 1000)


class Traffic:
    """The requests and transferred bytes of one page, from its CDP session."""

    def __init__(self, page):
        self.urls = {}
        self.from_cache = set()
        self.bytes_by_request = {}
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestServedFromCache", self._served_from_cache)
        cdp.on("Network.responseReceived", self._received)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.send("Network.enable")

    def _sent(self, event):
        self.urls[event["requestId"]] = event["request"]["url"]

    def _served_from_cache(self, event):
        self.from_cache.add(event["requestId"])

    def _received(self, event):
        if event["response"].get("fromDiskCache"):
            self.from_cache.add(event["requestId"])

    def _finished(self, event):
        self.bytes_by_request[event["requestId"]] = event["encodedDataLength"]

    def reset(self):
        self.urls.clear()
        self.from_cache.clear()
        self.bytes_by_request.clear()

    @property
    def requests(self):
        return len(self.urls)

    @property
    def bytes(self):
        return int(sum(self.bytes_by_request.values()))

    @property
    def static_files_not_from_cache(self):
        return [
            url
            for request_id, url in self.urls.items()
            if urlsplit(url).path.startswith(settings.STATIC_URL)
            and request_id not in self.from_cache
        ]


def _measure(browser, live_url, path):
    context = browser.new_context(base_url=live_url, locale="fr-FR")
    context.set_default_timeout(5_000)
    context.set_default_navigation_timeout(15_000)
    try:
        page = context.new_page()
        traffic = Traffic(page)
        response = page.goto(path, wait_until="networkidle")
        assert response.status == 200, f"{path} answered {response.status}"
        first_visit_bytes, requests = traffic.bytes, traffic.requests
        dom_elements = page.evaluate(COUNT_DOM_ELEMENTS)
        images = page.eval_on_selector_all("img", IMAGES_NOT_LAZY_OR_UNSIZED)
        accepted = response.request.header_value("accept-encoding") or ""
        assert "gzip" in accepted, "Chromium should accept gzip"
        encoding = response.header_value("content-encoding") or ""
        icon = page.locator('link[rel~="icon"]')
        favicon_status = None
        if icon.count():
            href = icon.first.evaluate("link => link.href")
            favicon_status = context.request.get(href).status

        traffic.reset()
        page.goto(path, wait_until="networkidle")
        return Figures(
            first_visit_bytes,
            traffic.bytes,
            traffic.static_files_not_from_cache,
            requests,
            dom_elements,
            encoding,
            images,
            favicon_status,
        )
    finally:
        context.close()


def _table(figures):
    header = (
        f"{'page':<50} {'1st B':>7} {'repeat B':>8} {'req':>4} {'DOM':>4} "
        f"{'score':>5} grade"
    )
    lines = ["", "Page weight (first visit, repeat visit, EcoIndex)", header]
    for path, page in figures.items():
        score, grade = page.ecoindex
        lines.append(
            f"{path:<50} {page.first_visit_bytes:>7} {page.repeat_visit_bytes:>8} "
            f"{page.requests:>4} {page.dom_elements:>4} {score:>5} {grade}"
        )
    return "\n".join(lines)


@pytest.fixture(scope="module")
def measure(browser, live_url, request):
    """Measure a page once for all the tests of this module; the table of them
    all ends the run's report (tests/browser/conftest.py)."""
    figures = {}

    def measure(path):
        if path not in figures:
            figures[path] = _measure(browser, live_url, path)
        return figures[path]

    yield measure
    request.config.stash.setdefault(REPORTS, []).append(_table(figures))


every_page = pytest.mark.parametrize("path", WEIGHT_PAGES)


@every_page
def test_page_stays_within_its_weight_budget(measure, path):
    page = measure(path)

    assert page.first_visit_bytes < FIRST_VISIT_MAX_BYTES, "first visit bytes"
    assert page.repeat_visit_bytes < REPEAT_VISIT_MAX_BYTES, "repeat visit bytes"
    assert page.repeat_visit_static_downloads == [], "static files cached"
    assert page.requests <= MAX_REQUESTS, "requests"
    assert page.dom_elements <= MAX_DOM_ELEMENTS, "DOM elements"


@every_page
def test_page_is_compressed_with_lazy_sized_images_and_a_favicon(measure, path):
    page = measure(path)

    assert page.content_encoding in COMPRESSIONS, "compressed HTML"
    assert page.images_not_lazy_or_unsized == [], "images: loading=lazy, width, height"
    assert page.favicon_status == 200, "a favicon that loads"


@every_page
def test_page_earns_its_ecoindex_grade(measure, path):
    page = measure(path)

    needed = "A" if path in GRADE_A_PAGES else "B"
    score, grade = page.ecoindex
    assert grade <= needed, f"EcoIndex {score} ({grade}), needs {needed}: {page}"
