"""Fuzz the catalogue's list page and API with real, random, hostile and
ORM-looking query parameters: never a 500, unknown parameters ignored, every
reflected value escaped; a valid query answers the count of a plain ORM query,
an invalid one names each invalid parameter."""

import html
import math
import re

import pytest
from django.core.cache import cache
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initiatives.filters import LABEL_CHOICES, SortChoices
from initiatives.models import (
    Category,
    Collectivity,
    Department,
    Initiative,
    PopulationBand,
    Region,
    Theme,
)
from tests.initiatives.test_facet_counts import PLAIN_PATHS, plain_condition
from vigilance.models import VigilancePoint

pytestmark = pytest.mark.django_db

FILTERS = [
    "q",
    "department",
    "region",
    "theme",
    "category",
    "kind",
    "size",
    "label",
    "vigilance",
    "period",
    "featured",
    "sort",
]
PAGING = ["page", "page_size", "ordering"]
# Lookups a careless `filter(**request.GET)` would run (CVE-2025-64459's pattern).
ORM_LOOKING = [
    "_connector",
    "_negated",
    "name__regex",
    "submitter__email__startswith",
    "collectivity__name__icontains",
    "status",
    "id__gt",
    "submission__submitter_email__contains",
]
PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    '" autofocus onfocus="alert(1)',
]
FUZZ = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

text = st.text(st.characters(codec="utf-8"), max_size=12)
hostile = st.builds(
    lambda before, payload, after: before + payload + after,
    text,
    st.sampled_from(PAYLOADS),
    text,
)


def real_values():
    """Gather each parameter's real values from the seeded database."""
    return {
        "q": ["mairie", "école", "télétravail", "Béthune", "santé"],
        "department": list(Department.objects.values_list("code", flat=True)),
        "region": list(Region.objects.values_list("code", flat=True)),
        "theme": list(Theme.objects.values_list("slug", flat=True)),
        "category": list(Category.objects.values_list("slug", flat=True)),
        "kind": list(Collectivity.Kind.values),
        "size": [*PopulationBand.values, "1000", "petite"],
        "label": [value for value, _ in LABEL_CHOICES],
        "vigilance": list(VigilancePoint.objects.values_list("slug", flat=True)),
        "period": list(Initiative.Period.values),
        "featured": ["1", "0", ""],
        "sort": [value for value, _ in SortChoices.CHOICES],
        "page": ["1", "2", "3", "0", "-1", "last", "999"],
        "page_size": ["1", "5", "100", "101", "0", "-3"],
        "ordering": ["title", "-title", "published_at", "-updated_at", "password"],
        "_connector": ["OR", "AND", "XOR", "1=1"],
        "_negated": ["1", "True"],
        "name__regex": [".*", "(a+)+$", "["],
        "status": ["submitted", "rejected", "archived"],
        "id__gt": ["0", "-1"],
    }


def query(real):
    """Draw a query: a few real or random values for real parameters, plus
    ORM-looking and unknown ones."""
    names = FILTERS + PAGING + ORM_LOOKING
    unknown = st.from_regex(r"[a-z_]{1,10}(__[a-z]{2,9}){0,2}", fullmatch=True).filter(
        lambda name: name not in names and name != "format"
    )

    def values(name):
        value = st.one_of(
            st.sampled_from(real.get(name) or ["a"]),
            text,
            st.integers(-5, 10**12).map(str),
            hostile,
        )
        return st.lists(value, min_size=1, max_size=3 if name != "q" else 1)

    known = st.dictionaries(
        st.sampled_from(FILTERS + PAGING), st.just(None), max_size=5
    ).flatmap(lambda d: st.fixed_dictionaries({name: values(name) for name in d}))
    extra = st.dictionaries(
        st.one_of(st.sampled_from(ORM_LOOKING), unknown), st.just(None), max_size=3
    ).flatmap(lambda d: st.fixed_dictionaries({name: values(name) for name in d}))
    return st.tuples(known, extra)


# What each FilterSet parameter accepts, written here: the values of a facet,
# read from the tables and the models' choices, and the French label an
# invalid value is explained under on the list page.
LABELS = {
    "q": "Rechercher",
    "department": "Département",
    "region": "Région",
    "theme": "Thème",
    "category": "Catégorie de l'enquête",
    "kind": "Type de collectivité",
    "size": "Taille de la collectivité",
    "label": "Label Villes Internet",
    "vigilance": "Point de vigilance",
    "period": "Période",
    "featured": "À la une",
    "sort": "Trier par",
}
SEARCH_MAX_LENGTH = 200
API_PAGE_SIZE, API_MAX_PAGE_SIZE = 20, 100


def accepted_values():
    return {
        "department": set(Department.objects.values_list("code", flat=True)),
        "region": set(Region.objects.values_list("code", flat=True)),
        "theme": set(Theme.objects.values_list("slug", flat=True)),
        "category": set(Category.objects.values_list("slug", flat=True)),
        "kind": set(Collectivity.Kind.values),
        "size": set(PopulationBand.values),
        "label": {str(level) for level in range(6)},
        "vigilance": set(VigilancePoint.objects.values_list("slug", flat=True)),
        "period": set(Initiative.Period.values),
        "featured": {"1"},
        "sort": {"", "relevance", "title", "department", "newest"},
    }


def expected(known, accepted):
    """Judge the FilterSet's parameters by the rules above, and count the
    selection with a plain ORM query: (names of the invalid parameters, the
    count, None when a parameter is invalid)."""
    invalid, conditions = set(), []
    published = Initiative.objects.filter(status="published")
    for name, values in known.items():
        if name == "q":  # one value: a text field reads the last one
            query = values[-1].strip()
            if len(query) > SEARCH_MAX_LENGTH or "\x00" in query:
                invalid.add(name)
            elif query:  # the search itself is search()'s tests' business
                published = published.filter(pk__in=Initiative.objects.search(query))
        elif name == "sort":
            if values[-1] not in accepted[name]:
                invalid.add(name)
        elif name in PLAIN_PATHS:
            if set(values) <= accepted[name]:
                conditions.append(plain_condition(name, values))
            else:
                invalid.add(name)
    if invalid:
        return invalid, None
    return invalid, published.filter(*conditions).distinct().count()


def api_page_exists(known, count):
    """Tell whether the API serves the page asked for, as DRF's page number
    pagination does: a bad `page_size` gives 20, one over 100 gives 100; a
    page is a whole number between 1 and the last page, or "last"."""
    try:
        size = int(known.get("page_size", [""])[-1])
    except ValueError:
        size = API_PAGE_SIZE
    size = min(size, API_MAX_PAGE_SIZE) if size > 0 else API_PAGE_SIZE
    number = known.get("page", [""])[-1] or "1"
    if number == "last":
        return True
    try:
        return 1 <= int(number) <= max(1, math.ceil(count / size))
    except ValueError:
        return False


def explained_labels(text):
    """The labels of the parameters the list page's error notice names."""
    notice = re.search(
        r'<div class="notice notice-error" role="alert">(.*?)</div>', text, re.S
    )
    if notice is None:
        return set()
    return set(re.findall(r"<li>(.*?) : ", html.unescape(notice[1])))


def assert_escaped(response, params):
    for values in params.values():
        for value in values:
            for payload in PAYLOADS:
                if payload in value:
                    assert payload not in response.text


@override_settings(API_ANONYMOUS_RATE="1000000/minute")
def test_list_page_survives_fuzzing(client):
    real, accepted = real_values(), accepted_values()

    @FUZZ
    @given(query(real))
    def check(drawn):
        known, extra = drawn
        response = client.get("/initiatives/", {**known, **extra})
        assert response.status_code == 200
        assert_escaped(response, {**known, **extra})
        invalid, count = expected(known, accepted)
        assert response.context["page"].paginator.count == (count or 0)
        assert explained_labels(response.text) == {LABELS[name] for name in invalid}

    check()


@override_settings(API_ANONYMOUS_RATE="1000000/minute")
def test_api_survives_fuzzing(client):
    real, accepted = real_values(), accepted_values()

    @FUZZ
    @given(query(real))
    def check(drawn):
        known, extra = drawn
        cache.clear()
        response = client.get("/api/v1/initiatives/", {**known, **extra})
        assert response["Content-Type"] == "application/json"
        invalid, count = expected(known, accepted)
        if invalid:
            assert response.status_code == 400
            assert set(response.json()["errors"]) == invalid
        elif api_page_exists(known, count):
            assert response.status_code == 200
            assert response.json()["count"] == count
        else:
            assert response.status_code == 404

    check()
