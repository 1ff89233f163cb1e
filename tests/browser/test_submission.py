"""The call for ideas end to end: a collectivity submits, staff publish, the
public and the API see it."""

import json
import time

import pytest
from playwright.sync_api import expect

from .conftest import log_into_admin

pytestmark = pytest.mark.browser

TITLE = "Un atelier numérique itinérant pour les aînés"


def test_form_errors_are_accessible(page, axe_check):
    page.goto("/proposer/")
    page.get_by_label("Titre de l'initiative").fill(TITLE)
    page.get_by_role("button", name="Envoyer la proposition").click()

    expect(page.locator("#erreurs")).to_contain_text("Le formulaire contient")
    assert page.title().startswith("Erreurs")
    axe_check(page, "/proposer/ (erreurs)")


def test_submission_then_publication_then_public(
    page, live_url, staff_codes, axe_check
):
    page.goto("/proposer/")
    page.get_by_label("Votre collectivité").fill("Aurillac")
    page.get_by_label("Titre de l'initiative").fill(TITLE)
    page.get_by_label("Résumé").fill("Un atelier qui se déplace dans les quartiers.")
    page.get_by_label("Description").fill(
        "Des médiateurs numériques accompagnent les aînés dans leurs démarches."
    )
    page.get_by_label("Cohésion sociale").check()
    page.get_by_label("Solidarité numérique").check()
    page.get_by_label("Votre nom").fill("Camille Martin")
    page.get_by_label("Votre adresse électronique").fill("camille@example.org")
    page.get_by_label("Votre fonction").fill("Chargée de mission numérique")
    page.get_by_label("J'accepte que Villes Internet conserve").check()
    time.sleep(1.1)  # the server refuses forms sent faster than a person could
    page.get_by_role("button", name="Envoyer la proposition").click()
    page.wait_for_url("**/proposer/merci/")
    assert "bien reçue" in page.locator("h1").inner_text()
    axe_check(page)

    # Not public yet.
    page.goto("/initiatives/?q=atelier+itinerant")
    assert TITLE not in page.locator("main").inner_text()

    # Staff log in with their password and a one-time code, then publish it from
    # the moderation queue.
    log_into_admin(page, staff_codes)
    expect(page.locator("#moderation-summary")).to_contain_text(
        "1 initiative en attente de décision"
    )
    page.get_by_role("link", name="Ouvrir la file de modération").click()
    row = page.locator("#result_list tr", has_text=TITLE)
    row.locator("input[type=checkbox]").check()
    page.locator("select[name=action]").select_option("publish")
    page.locator("button[name=index]").click()  # run the selected action
    expect(page.locator(".messagelist")).to_contain_text("1 initiative(s) publiée(s)")

    # Public now, on the list and in the API.
    page.goto("/initiatives/?q=atelier+itinerant")
    assert TITLE in page.locator("main").inner_text()
    page.get_by_role("link", name=TITLE).click()
    assert "Aurillac" in page.locator("main").inner_text()
    assert "Camille" not in page.content()
    response = page.request.get(f"{live_url}/api/v1/initiatives/?q=atelier+itinerant")
    data = json.loads(response.text())
    assert [item["title"] for item in data["results"]] == [TITLE]
    assert data["results"][0]["collectivity"]["code"] == "15014"
    assert "camille" not in response.text().lower()
