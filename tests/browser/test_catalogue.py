"""The catalogue `/initiatives/` as a person uses it: facets, search, keyboard."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

RESULT_CARDS = "main article"
RESULT_LINKS = "main article :is(h2, h3) a"
MAX_TABS = 400


def result_paths(page):
    links = page.locator(RESULT_LINKS).all()
    return [urlsplit(link.get_attribute("href")).path for link in links]


def filter_by_department_13(page):
    page.goto("/initiatives/")
    page.get_by_role("checkbox", name=re.compile("Bouches-du-Rhône")).check()
    page.get_by_role("button", name="Filtrer", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]department=13(&|$)"))


def assert_shows_department_13(page):
    cards = page.locator(RESULT_CARDS).all_inner_texts()
    assert any("Martigues" in card for card in cards)
    assert any("Miramas" in card for card in cards)
    assert not any("Beauvais" in card for card in cards)
    count = page.locator("#result-count").inner_text()
    assert str(len(cards)) in re.findall(r"\d+", count), count


def test_department_checkbox_filters_the_list(page):
    filter_by_department_13(page)

    assert_shows_department_13(page)


def test_filter_form_works_without_javascript(page_without_js):
    filter_by_department_13(page_without_js)

    assert_shows_department_13(page_without_js)


def test_theme_and_department_combine(page):
    page.goto("/initiatives/?theme=teletravail&department=62")

    expect(
        page.get_by_role("checkbox", name=re.compile("^Télétravail"))
    ).to_be_checked()
    expect(
        page.get_by_role("checkbox", name=re.compile("Pas-de-Calais"))
    ).to_be_checked()
    # Arras (62) has no telework initiative; Béthune has one.
    assert result_paths(page) == ["/initiatives/bethune-cybersecurite-teletravail/"]
    expect(page.locator(RESULT_CARDS)).to_contain_text("Béthune")


def test_search_finds_telework_initiatives(page):
    page.goto("/initiatives/")
    search = page.get_by_label("Rechercher", exact=True)
    search.fill("teletravail")
    search.press("Enter")
    page.wait_for_url(re.compile(r"[?&]q=teletravail"))

    expect(
        page.locator(RESULT_LINKS).filter(
            has_text="Une plateforme collaborative pour le télétravail"
        )
    ).to_have_count(1)
    assert {
        "/initiatives/martigues-plateforme-collaborative-teletravail/",
        "/initiatives/saint-egreve-equipement-agents-visioconference/",
    } <= set(result_paths(page))


def test_every_result_is_reachable_by_keyboard(page):
    page.goto("/initiatives/")
    wanted = set(page.locator(RESULT_LINKS).evaluate_all("as => as.map(a => a.href)"))
    assert wanted

    reached = set()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("() => document.activeElement.href"))
        if wanted <= reached:
            break
    assert wanted <= reached, f"never focused: {sorted(wanted - reached)}"
