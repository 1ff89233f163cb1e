"""Checks the browser tests share: accessibility with axe-core, third-party requests."""

from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import axe_playwright_python

AXE_SCRIPT = Path(axe_playwright_python.__file__).with_name("axe.min.js")
AXE_RUN = """async () => await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    resultTypes: ["violations", "incomplete"],
})"""
SHOWN_NODES = 3


@cache
def _axe_source():
    return AXE_SCRIPT.read_text()


def _describe(result):
    """Describe one axe-core result on one line: rule, impact, help, the first
    nodes, and why, as axe words it for the first node."""
    nodes = result["nodes"]
    targets = ", ".join(
        " ".join(map(str, node["target"])) for node in nodes[:SHOWN_NODES]
    )
    more = f" (+{len(nodes) - SHOWN_NODES} more)" if len(nodes) > SHOWN_NODES else ""
    reasons = [
        check["message"]
        for node in nodes[:1]
        for check in node["any"] + node["all"] + node["none"]
    ]
    why = f" — {reasons[0]}" if reasons else ""
    return f"{result['id']} [{result['impact']}] {result['help']}: {targets}{more}{why}"


def axe_results(page):
    """Run axe-core on the page; describe, one per line, each WCAG 2.1 A/AA
    violation and each check axe could not decide ("incomplete": a person must
    look, or the page must let axe decide). Gives (violations, incomplete).

    axe is injected with `evaluate`, which the page's Content-Security-Policy does not
    govern, unlike a `<script>` tag.
    """
    page.evaluate(_axe_source())
    results = page.evaluate(AXE_RUN)
    return (
        [_describe(result) for result in results["violations"]],
        [_describe(result) for result in results["incomplete"]],
    )


def _origin(url):
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def other_host_requests(urls, base_url):
    """Return the URLs whose origin is not the site's, ignoring data: and about:."""
    return [
        url
        for url in urls
        if not url.startswith(("data:", "about:")) and _origin(url) != _origin(base_url)
    ]
