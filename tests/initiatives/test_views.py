import datetime
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from initiatives import views
from initiatives.models import Collectivity, Department, Initiative
from initiatives.views import PREVIEW
from tests.factories import CollectivityFactory, InitiativeFactory, ThemeFactory

pytestmark = pytest.mark.django_db

BEAUVAIS_MARKET = "/initiatives/beauvais-marche-primeurs-en-ligne/"


def haute_corse_initiatives(rows, **fields):
    """Publish `rows` initiatives in Haute-Corse, where the seed has none."""
    town = CollectivityFactory(department=Department.objects.get(code="2B"))
    return InitiativeFactory.create_batch(
        rows, published=True, collectivity=town, **fields
    )


def test_home_shows_figures_themes_featured_and_survey(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    text = response.text
    assert "+30 %" in text and "Trafic internet" in text
    assert "Télétravail" in text and "Solidarité numérique" in text
    assert "Un marché primeurs en ligne" in text
    catalogued = Initiative.objects.published().count()
    assert f"<strong>{catalogued}</strong> des <strong>97</strong>" in text


def test_home_shows_the_latest_featured_and_links_to_all(client):
    InitiativeFactory.create_batch(8, published=True, is_featured=True)
    response = client.get(reverse("home"))
    featured = list(response.context["featured"])
    assert len(featured) == 6 < Initiative.objects.published().featured().count()
    dates = [initiative.published_at for initiative in featured]
    assert dates == sorted(dates, reverse=True)
    assert f'href="{reverse("initiatives:list")}?featured=1"' in response.text


def test_list_shows_published_initiatives_only(client):
    InitiativeFactory(title="Brouillon invisible")
    response = client.get(reverse("initiatives:list"), {"sort": "title"})
    assert response.status_code == 200
    assert "Brouillon invisible" not in response.text
    count = Initiative.objects.published().count()
    assert f"{count} initiatives" in response.text


def test_list_filters_and_shows_active_filters(client):
    response = client.get(reverse("initiatives:list"), {"department": "13"})
    text = response.text
    assert "Martigues" in text and "Miramas" in text and "Beauvais (60)" not in text
    assert 'aria-label="Retirer le filtre Département : Bouches-du-Rhône (13)"' in text
    assert 'value="13" checked' in text
    assert "/initiatives/flux.atom?department=13" in text


@pytest.mark.parametrize(
    "query",
    [
        {"department": "zz"},
        {"label": "abc"},
        {"q": "x" * 10_000},
        {"sort": "prix"},
        {"page": "999"},
        {"page": "abc"},
        {"department": ["13", "13"], "theme": "%00"},
    ],
)
def test_list_explains_invalid_input_without_error(client, query):
    response = client.get(reverse("initiatives:list"), query)
    assert response.status_code == 200
    if "page" not in query:
        assert "ne sont pas valides" in response.text
        assert "0 initiative" in response.text


def test_list_invalid_department_names_the_filter(client):
    response = client.get(reverse("initiatives:list"), {"department": "zz"})
    assert "Département : Sélectionnez un choix valide" in response.text


@pytest.mark.parametrize("name", ["theme", "kind"])
def test_list_refuses_a_null_character_without_echoing_it(client, name):
    response = client.get(reverse("initiatives:list"), {name: "culture\x00"})
    assert "caractère nul n’est pas autorisé" in response.text
    assert "\x00" not in response.text


def test_list_stops_at_the_last_page_it_serves(client, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    monkeypatch.setattr(views, "MAX_PAGES", 2)
    haute_corse_initiatives(3)
    query = {"department": "2B", "page": "1000"}
    response = client.get(reverse("initiatives:list"), query)
    assert response.status_code == 200
    assert response.context["page"].number == 2
    assert "Affinez votre recherche : les pages au-delà de 2" in response.text


@pytest.mark.parametrize("rows", [1, 30])
def test_list_query_count_is_constant(client, django_assert_num_queries, rows):
    haute_corse_initiatives(rows)
    # the five facets' values (validation and labels, one query), the facet
    # counts with the total (one query), page ids, page rows.
    with django_assert_num_queries(4):
        response = client.get(reverse("initiatives:list"), {"department": "2B"})
    assert response.context["page"].paginator.count == rows


@pytest.mark.parametrize("rows", [1, 30])
def test_search_query_count_is_constant(client, django_assert_num_queries, rows):
    haute_corse_initiatives(rows, title="Un guichet numérique")
    # the facets' values, facet counts with the total, page ids, page rows
    with django_assert_num_queries(4):
        response = client.get(reverse("initiatives:list"), {"q": "guichet"})
    assert response.context["page"].paginator.count == rows


def test_detail_shows_everything_we_know(client):
    response = client.get(BEAUVAIS_MARKET)
    assert response.status_code == 200
    text = response.text
    for expected in [
        "Un marché primeurs en ligne",
        "Beauvais",
        "Oise (60)",
        "Hauts-de-France",
        "Soutien à l&#x27;économie locale",
        "230 commandes",
        "Premier confinement",
        "Non connu",
        "@@@@ 2021",
        "Source :",
        "sans jugement de valeur",
        'property="og:title"',
        'property="og:type" content="article"',
        '<meta name="description" content="Beauvais a mis en place',
    ]:
        assert expected in text, expected
    assert len(response.context["related"]) == 4


def test_detail_of_an_unpublished_initiative_is_not_found(client):
    draft = InitiativeFactory()
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get("/initiatives/nexiste-pas/").status_code == 404


def test_detail_query_count(client, django_assert_num_queries):
    # initiative (joined), themes, vigilance points, related: 3 candidate
    # queries then the best of them (cards), history (changelog)
    with django_assert_num_queries(8):
        client.get(BEAUVAIS_MARKET)


def test_related_initiatives_share_a_theme_or_the_department(client):
    initiative = Initiative.objects.get(slug="beauvais-marche-primeurs-en-ligne")
    themes = set(initiative.themes.values_list("pk", flat=True))
    for other in client.get(BEAUVAIS_MARKET).context["related"]:
        assert other.pk != initiative.pk and other.is_published
        same_department = (
            other.collectivity.department == initiative.collectivity.department
        )
        assert same_department or themes & {t.pk for t in other.themes.all()}


@pytest.mark.parametrize("rows", [1, 30])
def test_collectivity_pages_query_count(client, django_assert_num_queries, rows):
    town = CollectivityFactory(label_level=3, label_year=2020)
    InitiativeFactory.create_batch(rows, published=True, collectivity=town)
    # collectivity, its initiatives (cards), its intercommunalities
    with django_assert_num_queries(3):
        response = client.get(town.get_absolute_url())
    assert "@@@ 2020" in response.text
    # collectivities with counts
    with django_assert_num_queries(1):
        client.get(reverse("initiatives:collectivity_list"))


def test_collectivity_page_shows_kind_code_and_intercommunality(client):
    response = client.get("/collectivites/sens-89/")
    assert response.status_code == 200
    assert "89387" in response.text and "CA du Grand Sénonais" in response.text
    assert client.get("/collectivites/inconnue/").status_code == 404


def test_collectivity_list_shows_seeded_towns_only(client):
    response = client.get(reverse("initiatives:collectivity_list"))
    listed = list(response.context["collectivities"])
    assert {c.name for c in listed} >= {"Martigues", "Les Abymes", "Saumur"}
    assert all(c.initiative_count > 0 for c in listed)


@pytest.mark.parametrize("rows", [1, 30])
def test_department_page_query_count(client, django_assert_num_queries, rows):
    haute_corse_initiatives(rows)
    # department, its latest initiatives (cards), their number (read from the
    # facet pairs on PostgreSQL), collectivities with counts
    with django_assert_num_queries(4):
        response = client.get("/departements/2B/")
    assert response.status_code == 200
    shown = min(rows, PREVIEW)
    assert len(response.context["initiatives"]) == shown
    assert response.context["initiative_count"] == rows
    link = f"voir les {rows} initiatives du département dans le catalogue"
    assert (link in response.text) == (rows > PREVIEW)


def test_department_pages(client):
    response = client.get("/departements/2a/")
    assert response.status_code == 200 and "Ajaccio" in response.text
    assert client.get("/departements/99/").status_code == 404
    response = client.get(reverse("initiatives:department_list"))
    rows = {d.code: d.initiative_count for d in response.context["departments"]}
    assert len(rows) == 101 and rows["13"] == 6 and rows["2B"] == 0


def test_theme_page(client, django_assert_num_queries):
    # theme, its latest initiatives (cards), their number, all themes
    with django_assert_num_queries(4):
        response = client.get("/themes/teletravail/")
    listed = response.context["initiatives"]
    dates = [initiative.published_at for initiative in listed]
    assert dates == sorted(dates, reverse=True)
    expected = Initiative.objects.published().filter(themes__slug="teletravail")
    assert response.context["initiative_count"] == expected.count() > 0
    assert "Une plateforme collaborative pour le télétravail" in response.text
    assert client.get("/themes/inconnu/").status_code == 404


def test_feed_lists_newly_published_for_any_filter(client):
    InitiativeFactory(title="Brouillon")
    response = client.get(reverse("initiatives:feed"), {"department": "13"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    text = response.content.decode()
    assert "Martigues" in text and "Beauvais" not in text and "Brouillon" not in text
    assert "/initiatives/?department=13" in text


def test_feed_with_invalid_filter_is_empty(client):
    response = client.get(reverse("initiatives:feed"), {"department": "zz"})
    assert response.status_code == 200 and "<entry>" not in response.content.decode()


def test_sitemap_lists_published_pages(client):
    InitiativeFactory(slug="brouillon-cache")
    text = client.get("/sitemap.xml").content.decode()
    assert BEAUVAIS_MARKET in text and "/collectivites/martigues-13/" in text
    assert "/departements/2A/" in text and "/vigilance/cybersecurite/" in text
    assert "brouillon-cache" not in text


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in response.text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/a-propos/", "présentées sans jugement de valeur"),
        ("/mentions-legales/", "Éditeur"),
        ("/confidentialite/", "trois ans"),
        ("/accessibilite/", "partiellement conforme"),
    ],
)
def test_static_pages(client, url, expected):
    response = client.get(url)
    assert response.status_code == 200 and expected in response.text


def test_not_found_page_is_in_the_site_look(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    assert "Page introuvable" in response.text and "Aller au contenu" in response.text


def test_every_page_has_its_own_title_and_one_h1(client):
    urls = [
        "/",
        "/initiatives/",
        BEAUVAIS_MARKET,
        "/collectivites/",
        "/collectivites/martigues-13/",
        "/departements/",
        "/departements/13/",
        "/themes/culture/",
        "/chiffres-cles/",
        "/enquete/",
        "/vigilance/",
        "/vigilance/cybersecurite/",
        "/a-propos/",
    ]
    titles = set()
    for url in urls:
        text = client.get(url).text
        assert text.count("<h1") == 1, url
        titles.add(text.split("<title>")[1].split("</title>")[0])
    assert len(titles) == len(urls)


def test_collectivity_is_filed_under_its_official_department():
    assert Collectivity.objects.get(code="26281").department.code == "26"


def test_department_map_has_one_shape_per_department_and_a_table(client):
    response = client.get(reverse("initiatives:department_list"))
    text = response.text
    svg = text.split("<svg", 1)[1].split("</svg>", 1)[0]
    for department in Department.objects.all():
        link = f'href="/departements/{department.code}/"'
        assert link in svg, department.code
    assert svg.count("<title>Bouches-du-Rhône (13) : 6 initiatives</title>") == 1
    table = text.split("<table>", 1)[1]
    assert table.count("<tr>") == 102  # header and 101 departments
    assert "pygal_maps_fr" in text and "LGPL" in text


def test_department_map_answers_the_filters(client):
    everything = client.get(reverse("initiatives:department_list"))
    telework = client.get(
        reverse("initiatives:department_list"), {"theme": "teletravail"}
    )
    counts = {d.code: d.initiative_count for d in telework.context["departments"]}
    expected = Initiative.objects.published().filter(themes__slug="teletravail")
    assert sum(counts.values()) == expected.count()
    assert counts["62"] == expected.filter(collectivity__department__code="62").count()
    assert counts["60"] == 1 and counts["13"] == 1
    assert "Bouches-du-Rhône (13) : 1 initiative<" in telework.text
    assert "Bouches-du-Rhône (13) : 6 initiatives<" in everything.text
    invalid = client.get(reverse("initiatives:department_list"), {"theme": "zz"})
    assert invalid.status_code == 200 and "Filtre invalide" in invalid.text


def test_home_shows_the_small_map(client):
    text = client.get(reverse("home")).text
    assert 'class="map"' in text and 'class="map-legend"' in text


@pytest.fixture
def shuffled_theme():
    """Publish 45 initiatives of a new theme (pages of 20, 20 and 5) in four
    departments, their titles, publication times and departments in no common
    order, nor in their primary keys'; and two unpublished ones."""
    theme = ThemeFactory()
    chance = random.Random(23)
    titles = [f"Essai {n:02d}" for n in range(45)]
    hours = list(range(45))
    chance.shuffle(titles)
    chance.shuffle(hours)
    towns = [
        CollectivityFactory(department=Department.objects.get(code=code))
        for code in ("60", "2B", "971", "13")
    ]
    start = timezone.now() - datetime.timedelta(days=30)
    for title, hour in zip(titles, hours, strict=True):
        initiative = InitiativeFactory(
            title=title,
            collectivity=chance.choice(towns),
            published=True,
            published_at=start + datetime.timedelta(hours=hour),
        )
        initiative.themes.add(theme)
    for title in ("Essai 005", "Essai 99"):
        InitiativeFactory(title=title, collectivity=towns[0]).themes.add(theme)
    return theme


# Each order's sort key, from an initiative's values read by a plain query.
SORT_KEYS = {
    "title": lambda row: row["title"],
    "newest": lambda row: -row["published_at"].timestamp(),
    "department": lambda row: (row["collectivity__department__code"], row["title"]),
    "relevance": None,  # the rank is the search's: the pages are only checked
}


@pytest.mark.parametrize(
    "sort, params",
    [
        ("title", {}),  # the default order
        ("title", {"sort": "title"}),
        ("newest", {"sort": "newest"}),
        ("department", {"sort": "department"}),
        ("relevance", {"q": "essai"}),
    ],
)
def test_pages_follow_the_order_and_hold_every_initiative_once(
    client, shuffled_theme, sort, params
):
    params = {**params, "theme": shuffled_theme.slug}
    pages = []
    for number in (1, 2, 3):
        response = client.get(reverse("initiatives:list"), {**params, "page": number})
        assert response.context["page"].number == number
        pages.append([initiative.pk for initiative in response.context["page"]])
    assert [len(page) for page in pages] == [20, 20, 5]
    listed = [pk for page in pages for pk in page]
    rows = {
        row["pk"]: row
        for row in Initiative.objects.filter(
            status="published", themes=shuffled_theme
        ).values("pk", "title", "published_at", "collectivity__department__code")
    }
    assert len(set(listed)) == len(listed)  # no initiative on two pages
    assert set(listed) == set(rows)
    if SORT_KEYS[sort] is not None:
        keys = [SORT_KEYS[sort](rows[pk]) for pk in listed]
        assert keys == sorted(keys)  # across pages 1, 2 and 3 too


def test_a_control_character_written_before_it_was_refused_breaks_no_feed(client):
    initiative = InitiativeFactory(published=True, title="Titre ordinaire")
    Initiative.objects.filter(pk=initiative.pk).update(title="Un titre\x0bcaché")
    response = client.get(reverse("initiatives:feed"))
    assert response.status_code == 200
    assert "Un titrecaché" in response.content.decode()
