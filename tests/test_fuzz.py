"""Fuzz the catalogue's list page and API with real, random, hostile and
ORM-looking query parameters: never a 500, unknown parameters ignored, every
reflected value escaped."""

import pytest
from django.core.cache import cache
from django.http import QueryDict
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initiatives.filters import LABEL_CHOICES, InitiativeFilter, SortChoices
from initiatives.models import (
    Category,
    Collectivity,
    Department,
    Initiative,
    Region,
    Theme,
)
from vigilance.models import VigilancePoint

pytestmark = pytest.mark.django_db

FILTERS = [
    "q",
    "department",
    "region",
    "theme",
    "category",
    "kind",
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


def expected(known):
    """Filter as if only the FilterSet's own parameters were sent: (valid, count)."""
    data = QueryDict(mutable=True)
    for name, values in known.items():
        data.setlist(name, values)
    filterset = InitiativeFilter(data, queryset=Initiative.objects.published())
    return (True, filterset.qs.count()) if filterset.is_valid() else (False, 0)


def assert_escaped(response, params):
    for values in params.values():
        for value in values:
            for payload in PAYLOADS:
                if payload in value:
                    assert payload not in response.text


@override_settings(API_ANONYMOUS_RATE="1000000/minute")
def test_list_page_survives_fuzzing(client):
    real = real_values()

    @FUZZ
    @given(query(real))
    def check(drawn):
        known, extra = drawn
        response = client.get("/initiatives/", {**known, **extra})
        assert response.status_code == 200
        assert_escaped(response, {**known, **extra})
        assert response.context["page"].paginator.count == expected(known)[1]

    check()


@override_settings(API_ANONYMOUS_RATE="1000000/minute")
def test_api_survives_fuzzing(client):
    real = real_values()

    @FUZZ
    @given(query(real))
    def check(drawn):
        known, extra = drawn
        cache.clear()
        response = client.get("/api/v1/initiatives/", {**known, **extra})
        assert response.status_code in (200, 400, 404)
        assert response["Content-Type"] == "application/json"
        valid, count = expected(known)
        if not valid:
            assert response.status_code == 400
        elif response.status_code == 200:
            assert response.json()["count"] == count

    check()
