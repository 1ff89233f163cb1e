import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from initiatives.models import Collectivity, Initiative
from surveys.models import Submission, Survey
from tests.factories import CollectivityFactory, InitiativeFactory

pytestmark = pytest.mark.django_db

INITIATIVE_KEYS = {
    "url",
    "page_url",
    "slug",
    "title",
    "summary",
    "description",
    "results",
    "website",
    "collectivity",
    "department",
    "region",
    "category",
    "themes",
    "vigilance_points",
    "period",
    "period_label",
    "started_on",
    "ended_on",
    "outcome",
    "outcome_label",
    "is_featured",
    "image",
    "source_note",
    "published_at",
    "created_at",
    "updated_at",
}
PERSONAL = ["submitter", "email", "review_note", "reviewed_by", "consent"]
# French words each field of the Initiative schema must show in its title or
# description: a field left undescribed would show its English name instead.
INITIATIVE_DOCS = {
    "url": "Adresse de cet objet",
    "page_url": "Adresse de la page",
    "slug": "Identifiant",
    "title": "Titre",
    "summary": "Résumé",
    "description": "Description",
    "results": "Résultats",
    "website": "Site internet",
    "collectivity": "collectivité",
    "department": "département",
    "region": "région",
    "category": "catégorie",
    "themes": "thèmes",
    "vigilance_points": "points de vigilance",
    "period": "Période",
    "period_label": "Période",
    "started_on": "Date de début",
    "ended_on": "Date de fin",
    "outcome": "Et après",
    "outcome_label": "advenu",
    "is_featured": "à la une",
    "image": "image",
    "source_note": "Source",
    "published_at": "Publiée le",
    "created_at": "Créée le",
    "updated_at": "Mise à jour le",
}


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()


def get(client, name, *args, **params):
    return client.get(reverse(f"api:{name}", args=args), params)


def test_root_lists_every_endpoint(client):
    data = get(client, "api-root").json()
    assert set(data) == {
        "initiatives",
        "collectivities",
        "departments",
        "regions",
        "themes",
        "categories",
        "key-figures",
        "vigilance-points",
        "surveys",
    }


def test_initiative_list_is_paginated_with_total_count(client):
    data = get(client, "initiative-list", page_size=10).json()
    assert data["count"] == Initiative.objects.published().count()
    assert len(data["results"]) == 10
    assert data["next"].endswith("page=2&page_size=10")
    assert data["previous"] is None
    assert set(data["results"][0]) == INITIATIVE_KEYS


def test_initiative_detail_needs_no_second_request(client):
    data = get(client, "initiative-detail", "beauvais-marche-primeurs-en-ligne").json()
    assert data["collectivity"]["code"] == "60057"
    assert data["collectivity"]["kind"] == "commune"
    assert data["department"] == {"code": "60", "name": "Oise"}
    assert data["region"] == {"code": "32", "name": "Hauts-de-France"}
    assert data["category"]["slug"] == "economie-locale"
    assert {"slug": "economie-locale", "name": "Soutenir l'économie locale"} in data[
        "themes"
    ]
    assert data["period"] == "lockdown1" and "230" in data["results"]
    assert data["page_url"] == (
        "http://testserver/initiatives/beauvais-marche-primeurs-en-ligne/"
    )
    assert data["published_at"][:4].isdigit() and "T" in data["published_at"]
    assert data["image"] is None


def test_unpublished_initiatives_are_invisible(client):
    draft = InitiativeFactory(title="Brouillon")
    assert get(client, "initiative-detail", draft.slug).status_code == 404
    titles = {
        i["title"]
        for i in get(client, "initiative-list", page_size=100).json()["results"]
    }
    assert "Brouillon" not in titles


def test_unknown_slug_is_a_json_404(client):
    response = get(client, "initiative-detail", "nexiste-pas")
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "towns"),
    [
        ({"department": "13"}, {"Martigues", "Miramas"}),
        ({"department": ["13", "60"], "period": "lockdown1"}, {"Beauvais"}),
        ({"theme": "teletravail", "department": "62"}, {"Béthune"}),
        ({"q": "bethune", "featured": "1"}, {"Béthune"}),
        ({"kind": "ca"}, {"CA du Grand Sénonais"}),
    ],
)
def test_initiative_filters_match_the_catalogue(client, params, towns):
    data = get(client, "initiative-list", page_size=100, **params).json()
    assert {i["collectivity"]["name"] for i in data["results"]} == towns


def test_ordering(client):
    data = get(client, "initiative-list", ordering="-title", page_size=100).json()
    titles = [i["title"] for i in data["results"]]
    assert titles == sorted(titles, reverse=True)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"department": "zz"}, "department"),
        ({"label": "abc"}, "label"),
        ({"theme": "inconnu"}, "theme"),
        ({"q": "x" * 10_000}, "q"),
    ],
)
def test_invalid_parameter_is_a_400_naming_it(client, params, name):
    response = get(client, "initiative-list", **params)
    assert response.status_code == 400
    body = response.json()
    assert name in body["detail"] and name in body["errors"]


def test_invalid_page_is_a_json_404(client):
    response = get(client, "initiative-list", page=999)
    assert response.status_code == 404 and response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "lookup", "keys"),
    [
        (
            "collectivity",
            "2A004",
            {
                "code",
                "siren",
                "name",
                "kind",
                "department",
                "region",
                "population",
                "label_level",
            },
        ),
        ("department", "971", {"code", "name", "region", "page_url"}),
        ("region", "93", {"code", "name"}),
        ("theme", "teletravail", {"slug", "name", "summary"}),
        ("category", "cohesion-sociale", {"slug", "name", "description"}),
        (
            "keyfigure",
            "trafic-internet",
            {
                "display_value",
                "value",
                "unit",
                "label",
                "source",
                "period",
                "explanation",
            },
        ),
        ("vigilancepoint", "cybersecurite", {"slug", "title", "summary", "body"}),
        (
            "survey",
            "appel-a-idees-2020-2021",
            {"declared_initiatives", "declared_towns", "categories"},
        ),
    ],
)
def test_every_endpoint_lists_and_details(client, name, lookup, keys):
    listing = get(client, f"{name}-list")
    assert listing.status_code == 200 and listing.json()["count"] > 0
    detail = get(client, f"{name}-detail", lookup)
    assert detail.status_code == 200
    assert keys <= set(detail.json())
    assert get(client, f"{name}-detail", "inconnu").status_code == 404


def test_codes_are_strings(client):
    data = get(client, "collectivity-detail", "01001").json()
    assert data["code"] == "01001" and data["department"]["code"] == "01"


def test_key_figures_carry_value_source_and_period(client):
    data = get(client, "keyfigure-detail", "teletravail").json()
    assert data["value"] == 41 and data["period"].startswith("Premier confinement")


def test_collectivity_filters(client):
    data = get(client, "collectivity-list", q="bethune", kind="commune").json()
    assert "62119" in [c["code"] for c in data["results"]]
    assert all("Béthune" in c["name"] for c in data["results"])
    data = get(client, "collectivity-list", has_initiatives="true", page_size=100)
    assert data.json()["count"] == Collectivity.objects.with_initiative_counts().count()
    data = get(client, "collectivity-list", q="13500").json()
    assert [c["name"] for c in data["results"]] == ["Martigues"]
    assert get(client, "collectivity-list", department="zz").status_code == 400


def test_conditional_get_answers_304(client):
    first = get(client, "theme-list")
    assert first["ETag"]
    again = client.get(reverse("api:theme-list"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_cors_is_open_for_reading(client):
    response = client.get(reverse("api:theme-list"), HTTP_ORIGIN="https://exemple.org")
    assert response["Access-Control-Allow-Origin"] == "*"


@override_settings(API_ANONYMOUS_RATE="3/minute")
def test_throttle_answers_429_with_a_message(client):
    codes = [get(client, "theme-list").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = get(client, "theme-list")
    assert response.status_code == 429
    assert "secondes" in response.json()["detail"]
    assert response["Retry-After"]


@override_settings(DEBUG=False)
def test_unknown_api_address_is_a_json_404(client):
    response = client.get("/api/v1/nulle-part/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_no_personal_data_in_any_response(client):
    town = CollectivityFactory()
    initiative = InitiativeFactory(published=True, collectivity=town)
    Submission.objects.create(
        survey=Survey.objects.get(),
        initiative=initiative,
        submitter_name="Camille Secret",
        submitter_email="camille.secret@example.org",
        submitter_role="Chargée de mission",
        has_consented=True,
        review_note="Note interne confidentielle",
    )
    urls = [
        reverse(f"api:{name}-list")
        for name in (
            "initiative",
            "collectivity",
            "survey",
            "keyfigure",
            "theme",
        )
    ]
    urls += [reverse("api:initiative-detail", args=[initiative.slug])]
    urls += [reverse("api:initiative-list") + "?page_size=100&sort=newest"]
    # The pages, feeds and open-data files must not leak it either.
    urls += [
        initiative.get_absolute_url(),
        reverse("initiatives:list") + "?sort=newest",
        reverse("initiatives:feed"),
        reverse("initiatives:data_initiatives_csv"),
        reverse("initiatives:data_initiatives_json"),
        reverse("initiatives:data_collectivities_csv"),
    ]
    for url in urls:
        response = client.get(url)
        body = response.streaming_content if response.streaming else [response.content]
        text = b"".join(body).decode()
        for secret in ("Camille Secret", "camille.secret", "Note interne", "Chargée"):
            assert secret not in text, (url, secret)
        for key in PERSONAL:
            assert f'"{key}' not in text, (url, key)


def test_schema_documents_every_endpoint_in_french(client):
    response = client.get(reverse("schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/api/v1/initiatives/",
        "/api/v1/initiatives/{slug}/",
        "/api/v1/collectivities/",
        "/api/v1/key-figures/",
        "/api/v1/vigilance-points/",
        "/api/v1/surveys/",
    ):
        assert path in paths
    parameters = {
        p["name"]: p for p in paths["/api/v1/initiatives/"]["get"]["parameters"]
    }
    assert {"q", "department", "theme", "label", "page", "page_size"} <= set(parameters)
    assert parameters["department"]["description"]
    fields = schema["components"]["schemas"]["Initiative"]["properties"]
    assert set(fields) == set(INITIATIVE_DOCS) == INITIATIVE_KEYS
    for name, words in INITIATIVE_DOCS.items():
        docs = [fields[name].get("title", ""), fields[name].get("description", "")]
        assert any(words in text for text in docs), (name, docs)
        assert docs[1] != name, name  # not the English name as a last resort


def test_docs_are_served_by_the_site(client):
    response = client.get(reverse("api_docs"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in text
    assert "cdn" not in text.lower() and "unpkg" not in text
