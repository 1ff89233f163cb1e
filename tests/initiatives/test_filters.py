from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from initiatives.facets import links
from initiatives.facets.counts import count
from initiatives.facets.options import by_value, facet_options
from initiatives.facets.registry import FACETS
from initiatives.filters import InitiativeFilter
from initiatives.models import Collectivity, Department, Initiative, Theme
from tests.factories import CollectivityFactory, InitiativeFactory

pytestmark = pytest.mark.django_db


def run(**params):
    data = QueryDict(urlencode(params, doseq=True))
    queryset = Initiative.objects.published().for_listing()
    return InitiativeFilter(data, queryset=queryset)


def results(**params):
    filterset = run(**params)
    assert filterset.is_valid(), filterset.errors
    return list(filterset.qs)


def towns(initiatives):
    return {initiative.collectivity.name for initiative in initiatives}


def test_no_filter_lists_every_published_initiative():
    InitiativeFactory(title="Brouillon")
    found = results()
    assert len(found) == Initiative.objects.published().count()
    assert "Brouillon" not in {i.title for i in found}


def test_department_facet():
    found = results(department="13")
    assert towns(found) == {"Martigues", "Miramas"}


def test_values_within_a_facet_are_ored():
    found = results(department=["13", "60"])
    assert towns(found) == {"Martigues", "Miramas", "Beauvais"}


def test_facets_are_anded():
    found = results(department="62", theme="teletravail")
    assert towns(found) == {"Béthune"}
    assert all("teletravail" in {t.slug for t in i.themes.all()} for i in found)


def test_overseas_and_corsican_codes():
    assert towns(results(department="971")) == {"Les Abymes"}
    assert towns(results(department="2A")) == {"Ajaccio"}


def test_region_facet():
    found = results(region="93")  # Provence-Alpes-Côte d'Azur
    assert towns(found) == {"Martigues", "Miramas"}


def test_theme_facet_returns_each_initiative_once():
    found = results(theme=["teletravail", "solidarite-numerique"])
    assert len(found) == len({i.pk for i in found})
    expected = Initiative.objects.published().filter(
        themes__slug__in=["teletravail", "solidarite-numerique"]
    )
    assert {i.pk for i in found} == set(expected.values_list("pk", flat=True))


def test_category_facet():
    found = results(category="economie-locale")
    assert found and {i.category.slug for i in found} == {"economie-locale"}


def test_kind_facet():
    found = results(kind=["ca", "cc"])
    assert towns(found) == {"CA du Grand Sénonais", "CC Sarrebourg Moselle Sud"}


def test_label_facet():
    assert towns(results(label="4")) == {"Martigues", "Beauvais", "Béthune"}
    assert towns(results(label="3")) == {"Saumur"}


def test_vigilance_facet():
    found = results(vigilance="cybersecurite")
    assert {"Béthune", "Les Abymes"} <= towns(found)


def test_period_facet():
    assert towns(results(period="lockdown1")) == {"Beauvais"}


def test_featured_facet():
    assert len(results(featured="1")) == 4


def test_facet_counts_give_what_ticking_would_give():
    filterset = run(department="13")
    filterset.is_valid()
    counted = count(filterset)
    counts = {name: by_value(filterset, counted, name) for name in FACETS.keys()}
    # Its own facet ignores the selection: ticking Oise too would add Beauvais'.
    beauvais = Initiative.objects.published().filter(collectivity__code="60057")
    assert counts["department"]["60"] == beauvais.count()
    assert counts["department"]["13"] == len(results(department="13"))
    # The other facets count within the selection.
    for theme in Theme.objects.all():
        expected = len(results(department="13", theme=theme.slug))
        assert counts["theme"].get(theme.slug, 0) == expected


def test_facet_counts_ignore_unpublished_initiatives():
    def in_13():
        filterset = run()
        return by_value(filterset, count(filterset), "department")["13"]

    before = in_13()
    InitiativeFactory(collectivity=CollectivityFactory())  # a draft in department 13
    assert in_13() == before


def test_facets_show_values_with_results_and_selected_ones():
    filterset = run(department=["13", "2B"])
    facets = {facet.name: facet for facet in facet_options(filterset, count(filterset))}
    departments = {option["value"]: option for option in facets["department"].options}
    assert departments["13"]["is_selected"] and departments["13"]["count"] == 6
    assert departments["2B"]["is_selected"] and departments["2B"]["count"] == 0
    assert "01" not in departments  # no result, not selected: one click away
    assert len(departments) < Department.objects.count()


@pytest.mark.parametrize(
    ("query", "expected_title"),
    [
        ("teletravail", "Une plateforme collaborative pour le télétravail"),
        ("TÉLÉTRAVAIL", "Une plateforme collaborative pour le télétravail"),
        (
            "bethune",
            "Un festival culturel numérique pendant les deux premiers confinements",
        ),
        (
            "saumur en action",
            "« Saumur en action », une plateforme locale et solidaire",
        ),
    ],
)
def test_search_ignores_case_and_accents(query, expected_title):
    assert expected_title in {i.title for i in results(q=query)}


def test_search_with_and_without_accents_gives_the_same_results():
    assert results(q="teletravail") == results(q="Télétravail")
    assert results(q="bethune") == results(q="Béthune")


def test_search_finds_a_word_with_its_accents_stripped():
    InitiativeFactory(published=True, title="École numérique ouverte")
    assert "École numérique ouverte" in {i.title for i in results(q="ecole")}


def test_search_matches_other_forms_of_a_word():
    InitiativeFactory(
        published=True,
        title="Un annuaire des boutiques",
        summary="Pour soutenir le commerce du centre-ville.",
    )
    titles = {i.title for i in results(q="commerçants")}
    assert "Un annuaire des boutiques" in titles


def test_search_covers_the_collectivity_name():
    found = results(q="Sablé-sur-Sarthe")
    assert towns(found) == {"Sablé-sur-Sarthe"}


def test_search_of_stop_words_only_finds_nothing():
    assert results(q="la le de") == []


def test_search_ranks_title_matches_first():
    found = results(q="marché primeurs")
    assert found[0].slug == "beauvais-marche-primeurs-en-ligne"


def test_search_combines_with_facets():
    found = results(q="teletravail", department="62")
    assert towns(found) == {"Béthune"}


@pytest.mark.parametrize(
    "params",
    [
        {"department": "zz"},
        {"region": "999"},
        {"theme": "inconnu"},
        {"label": "abc"},
        {"label": "9"},
        {"kind": "canton"},
        {"period": "hier"},
        {"featured": "oui"},
        {"sort": "prix"},
        {"q": "x" * 10_000},
    ],
)
def test_invalid_values_are_reported_not_raised(params):
    filterset = run(**params)
    assert not filterset.is_valid()
    assert filterset.error_list()


def test_sorts():
    by_title = [i.title for i in results(sort="title")]
    assert by_title == sorted(by_title)
    by_department = [i.collectivity.department.code for i in results(sort="department")]
    assert by_department == sorted(by_department)
    newest = InitiativeFactory(published=True)
    assert results(sort="newest")[0] == newest


def test_removal_urls_drop_one_value_and_the_page():
    filterset = run(department=["13", "60"], theme="teletravail", page="2")
    facets = facet_options(filterset, count(filterset))
    active = {
        a["label"]: a["url"] for a in links.active_filters(filterset.data, facets)
    }
    url = active["Bouches-du-Rhône (13)"]
    assert "department=60" in url and "department=13" not in url
    assert "theme=teletravail" in url and "page" not in url


def test_feed_url_keeps_the_filters():
    url = links.feed_url(run(department="13", sort="title", page="3").data)
    assert url == "/initiatives/flux.atom?department=13"


def test_size_facet_finds_what_towns_of_a_size_did():
    """Béthune (about 25 000 inhabitants) is among towns of 10 000 to 50 000;
    Martigues (about 48 000) too, Beauvais (about 56 000) is not."""
    found = towns(results(size="10000-50000"))
    assert {"Béthune", "Martigues"} <= found
    assert "Beauvais" not in found
    for initiative in results(size=["moins-de-2000", "2000-10000"]):
        assert initiative.collectivity.population < 10_000


def test_an_intercommunality_is_sized_by_its_members():
    sens = Collectivity.objects.get(code="248900334")  # CA du Grand Sénonais
    members = sum(member.population for member in sens.members.all())
    assert members < 100_000
    assert sens.population_band == (
        "50000-100000" if members >= 50_000 else "10000-50000"
    )
