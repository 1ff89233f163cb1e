"""Facet counts (initiatives/facets/counts.py) are those of a plain ORM query per
value, on both engines; and the ways of counting agree: the pair table
PostgreSQL's triggers keep up to date gives what counting the initiatives
gives, after every kind of change."""

from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from initiatives.facets import counts, planning
from initiatives.facets.counts import TOTAL, count, selection_sizes
from initiatives.facets.options import by_value
from initiatives.facets.planning import sized
from initiatives.facets.registry import FACETS
from initiatives.filters import InitiativeFilter
from initiatives.models import Collectivity, Department, Initiative, Region, Theme
from tests.factories import CollectivityFactory, InitiativeFactory
from vigilance.models import VigilancePoint

pytestmark = pytest.mark.django_db

SELECTIONS = [
    {},
    {"department": "13"},
    {"department": ["13", "60"]},
    {"region": "32"},
    {"theme": "teletravail"},
    {"theme": ["teletravail", "culture"]},
    {"kind": "commune"},
    {"label": ["4", "5"]},
    {"featured": "1"},
    {"period": "lockdown1"},
    {"vigilance": "cybersecurite"},
    {"department": "62", "theme": "teletravail"},
    {"region": "32", "category": "service-public", "period": "lockdown1"},
    {"q": "marché"},
    {"q": "numérique", "department": "60"},
]
# Where each facet's value, as named in URLs, lies from an initiative: the
# plain ORM paths the oracle below filters on, written here, not read from the
# facet registry.
PLAIN_PATHS = {
    "theme": "themes__slug",
    "category": "category__slug",
    "region": "collectivity__department__region__code",
    "department": "collectivity__department__code",
    "kind": "collectivity__kind",
    "size": "collectivity__population_band",
    "label": "collectivity__label_level",
    "vigilance": "vigilance_points__slug",
    "period": "period",
    "featured": "is_featured",
}
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the pair table is PostgreSQL's"
)


def every_way(params):
    """Count one selection as the list does, by the ORM, and (PostgreSQL)
    from the tokens of every initiative; check they agree, and that the list
    (filtered by the tokens on PostgreSQL) holds what the ORM's filters keep."""
    data = QueryDict(urlencode(params, doseq=True))
    filterset = InitiativeFilter(data, queryset=Initiative.objects.published())
    assert filterset.is_valid(), filterset.errors
    counted = count(filterset)
    used = {**counted.values, TOTAL: counted.total}
    computed = counts.computed(filterset.filtered_without, FACETS.keys())
    assert used == computed, params
    if connection.vendor == "postgresql":
        chosen = filterset.chosen_facets()
        requests = [
            ({n: keys for n, keys in chosen.items() if n != name}, [name])
            for name in FACETS.keys()
        ]
        requests.append((chosen, [TOTAL]))
        within = filterset.searched() if params.get("q") else None
        tallied = {}
        for answer in counts.tally(connection.alias, requests, within):
            tallied.update(answer)
        assert tallied == computed, params
        sizes = selection_sizes(filterset)
        known = sizes and sizes.selection
        assert known == (None if params.get("q") else computed[TOTAL]), params
    listed = {initiative.pk for initiative in filterset.qs}
    assert listed == set(filterset.filtered_without(None).values_list("pk", flat=True))
    # Nothing counted yet: on PostgreSQL, the tokens' other form (EXISTS).
    uncounted = InitiativeFilter(data, queryset=Initiative.objects.published())
    assert {initiative.pk for initiative in uncounted.qs} == listed, params
    assert computed[TOTAL] == len(listed)
    return computed


def plain_condition(facet, values):
    """The plain ORM condition of choosing `values` (as in URLs) in one facet."""
    if facet == "featured":
        return Q(is_featured=True)
    return Q(**{f"{PLAIN_PATHS[facet]}__in": values})


def plain_counts(params):
    """Count, with one plain ORM query per value, the published initiatives
    that ticking each value of each facet gives: the other facets' choices
    apply, the facet's own do not. Values no published initiative has count
    zero whatever the selection: one query per facet finds the others."""
    chosen = {
        name: value if isinstance(value, list) else [value]
        for name, value in params.items()
    }
    published = Initiative.objects.filter(status="published")
    if "q" in chosen:  # the search itself is search()'s tests' business
        published = published.filter(
            pk__in=Initiative.objects.search(chosen.pop("q")[0])
        )
    counts = {}
    for facet, path in PLAIN_PATHS.items():
        others = [plain_condition(n, v) for n, v in chosen.items() if n != facet]
        selection = published.filter(*others)
        present = published.values_list(path, flat=True).distinct()
        values = {
            "1" if value is True else str(value)
            for value in present
            if value is not None and value is not False
        }
        counts[facet] = {
            value: count
            for value in values
            if (
                count := selection.filter(plain_condition(facet, [value]))
                .distinct()
                .count()
            )
        }
    conditions = [plain_condition(n, v) for n, v in chosen.items()]
    counts[TOTAL] = published.filter(*conditions).distinct().count()
    return counts


def assert_agree():
    for params in SELECTIONS:
        every_way(params)


@pytest.mark.parametrize(
    "params", SELECTIONS, ids=lambda params: urlencode(params, doseq=True)
)
def test_counts_are_those_of_a_plain_query_per_value(params):
    data = QueryDict(urlencode(params, doseq=True))
    filterset = InitiativeFilter(data, queryset=Initiative.objects.published())
    assert filterset.is_valid(), filterset.errors
    expected = plain_counts(params)
    counted = count(filterset)
    assert {name: by_value(filterset, counted, name) for name in FACETS.keys()} == {
        facet: counts for facet, counts in expected.items() if facet != TOTAL
    }
    assert counted.total == expected[TOTAL]
    assert any(expected[facet] for facet in PLAIN_PATHS)  # not between empty dicts


def vigilance_point():
    return VigilancePoint.objects.get(slug="cybersecurite")


def test_every_way_agrees_on_the_seed():
    counts = every_way({})
    assert counts[TOTAL] == Initiative.objects.published().count() > 0
    assert counts["department"]  # not vacuous
    assert_agree()


@postgresql_only
def test_pairs_follow_initiatives_and_their_links():
    theme = Theme.objects.get(slug="teletravail")
    new = InitiativeFactory(published=True, is_featured=True, period="lockdown1")
    new.themes.set([theme, Theme.objects.get(slug="culture")])
    new.vigilance_points.add(vigilance_point())
    assert_agree()
    new.themes.remove(theme)
    new.period = "lockdown2"
    new.save()
    assert_agree()
    Initiative.objects.filter(pk=new.pk).update(status=Initiative.Status.SUBMITTED)
    assert_agree()
    Initiative.objects.filter(pk=new.pk).update(status=Initiative.Status.PUBLISHED)
    new.vigilance_points.clear()
    assert_agree()
    new.delete()
    assert_agree()


@postgresql_only
def test_pairs_follow_collectivities_and_departments():
    beauvais = Collectivity.objects.get(code="60057")
    beauvais.label_level = 1
    beauvais.kind = Collectivity.Kind.CA
    beauvais.save()
    assert_agree()
    moved = CollectivityFactory(department=Department.objects.get(code="60"))
    InitiativeFactory(collectivity=moved, published=True)
    moved.department = Department.objects.get(code="13")
    moved.save()
    assert_agree()
    Department.objects.filter(code="13").update(region=Region.objects.get(code="32"))
    assert_agree()


@postgresql_only
def test_pairs_survive_bulk_deletes():
    Initiative.objects.filter(collectivity__department__code="13").delete()
    assert_agree()
    Initiative.objects.all().delete()
    assert every_way({})[TOTAL] == 0


@postgresql_only
def test_rebuild_finds_the_triggers_right():
    InitiativeFactory(published=True).themes.add(Theme.objects.get(slug="culture"))
    output = StringIO()
    call_command("rebuild_facet_counts", "--check", stdout=output)
    assert "étaient justes" in output.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE initiatives_facet_pair SET count = count + 1")
    output = StringIO()
    call_command("rebuild_facet_counts", "--check", stdout=output)
    assert "différaient : corrigés" in output.getvalue()
    assert_agree()


@postgresql_only
def test_unfiltered_list_reads_the_pairs(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("initiatives:list"), {"department": "13"})
    assert response.status_code == 200
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert counts.PAIR_TABLE in sql
    assert "GROUP BY" not in sql
    assert response.context["page"].paginator.count == 6


def test_when_the_pairs_answer():
    postgresql = connection.vendor == "postgresql"
    assert counts.readable(connection.alias, {}) == postgresql
    assert counts.readable(connection.alias, {"department": ["1", "2"]}) == postgresql
    # Two facets, or two themes (an initiative may have both): counted.
    assert not counts.readable(connection.alias, {"department": ["1"], "theme": ["2"]})
    assert not counts.readable(connection.alias, {"theme": ["1", "2"]})


def test_counts_give_the_list_total(client):
    for params in [{}, {"department": "13"}, {"q": "marché"}, {"theme": "culture"}]:
        response = client.get(reverse("initiatives:list"), params)
        filterset = InitiativeFilter(
            QueryDict(urlencode(params)), queryset=Initiative.objects.published()
        )
        assert response.context["page"].paginator.count == len(filterset.qs)


def test_rebuild_command_says_when_there_is_nothing_to_do():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only: PostgreSQL rebuilds")
    output = StringIO()
    call_command("rebuild_facet_counts", stdout=output)
    assert "Rien à faire" in output.getvalue()


@pytest.mark.parametrize("params", [{}, {"department": "13"}, {"q": "marché"}])
def test_api_total_is_the_selection_count(client, params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/initiatives/", params)
    assert response.status_code == 200
    filterset = InitiativeFilter(
        QueryDict(urlencode(params)), queryset=Initiative.objects.published()
    )
    assert response.json()["count"] == len(filterset.qs) > 0
    counted = any(
        "COUNT(" in query["sql"] and "initiatives_initiative" in query["sql"]
        for query in captured.captured_queries
    )
    read = connection.vendor == "postgresql" and "q" not in params
    assert counted != read


@postgresql_only
def test_a_counted_narrow_selection_is_found_by_its_tokens_first(monkeypatch):
    data = QueryDict("department=62&theme=teletravail")
    filterset = InitiativeFilter(data, queryset=Initiative.objects.published())
    assert "EXISTS" in str(filterset.qs.query)  # size unknown: the planner's pick
    sizes = count(filterset).sizes
    total = sizes.selection
    assert 0 < total <= planning.NARROW
    assert "= ANY(ARRAY(" in str(sized(filterset.qs, sizes).query)
    assert len(sized(filterset.qs, sizes)) == total
    monkeypatch.setattr(planning, "NARROW", total - 1)
    assert "EXISTS" in str(sized(filterset.qs, planning.Sizes(total)).query)
    assert len(sized(filterset.qs, planning.Sizes(total))) == total


def test_a_page_walks_its_index_when_that_costs_less_than_finding():
    sizes = planning.Sizes
    # 40 000 of 1 000 000, page 1: about 500 probes against 40 000 lookups.
    assert planning.plan(sizes(40_000, 1_000_000), 20, walkable=True) == "walk"
    # The same page 100 deep: 50 000 probes, more than finding.
    assert planning.plan(sizes(40_000, 1_000_000), 2_000, walkable=True) == "find"
    # A narrow selection, or one whose order no index gives: found.
    assert planning.plan(sizes(900, 1_000_000), 20, walkable=True) == "find"
    assert planning.plan(sizes(900, 1_000_000), 20, walkable=False) == "find"
    # Uncounted, or too wide to find without knowing the catalogue: the planner's.
    assert planning.plan(sizes(), 20, walkable=True) == "planner"
    assert planning.plan(sizes(40_000, None), 20, walkable=True) == "planner"
    assert planning.plan(sizes(40_000, 1_000_000), 20, walkable=False) == "planner"


@pytest.mark.parametrize(
    "order, walkable",
    [
        (("title", "pk"), True),
        (("-published_at", "-pk"), True),
        (("title",), True),
        (("collectivity__department__code", "title", "pk"), False),
        (("-title", "pk"), False),
        ((), False),
    ],
)
def test_which_orders_an_index_gives(order, walkable):
    query = Initiative.objects.order_by(*order).query
    assert planning.walks_an_index(query) == walkable


@postgresql_only
@pytest.mark.parametrize("sort", ["title", "newest"])
def test_every_plan_gives_the_same_pages(sort):
    data = QueryDict(f"region=32&kind=commune&sort={sort}")
    filterset = InitiativeFilter(data, queryset=Initiative.objects.published())
    total = count(filterset).total
    assert total > 6  # two pages of 4, the second partial
    forms = {
        "walk": "(SELECT t.tokens &&",
        "find": "= ANY(ARRAY(",
        "planner": "EXISTS (",
    }
    # Sizes that make each plan the chosen one for pages of 4 (1: walk).
    forced = {
        "walk": planning.Sizes(total, 1),
        "find": planning.Sizes(total, None),
        "planner": planning.Sizes(),
    }
    pages = {}
    for how, sizes in forced.items():
        ids = sized(filterset.qs, sizes).values_list("pk", flat=True)
        sql = str(ids[4:8].query)
        assert forms[how] in sql, how
        assert all(form not in sql for name, form in forms.items() if name != how)
        pages[how] = [list(ids[:4]), list(ids[4:8])]
    assert pages["walk"] == pages["find"] == pages["planner"]
    assert len(pages["walk"][0]) == 4 and 0 < len(pages["walk"][1]) <= 4
