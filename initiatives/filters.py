"""The one FilterSet of the catalogue: the list page, its feed, the CSV export and
the API all read their query parameters through it, so a URL means the same thing
everywhere. Values within a facet are OR-ed, facets are AND-ed."""

import functools
from dataclasses import dataclass
from typing import TypedDict

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db import connections
from django.db.models import CharField, Exists, F, OuterRef, Value, Window
from django.db.models.functions import Concat, RowNumber
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field

from vigilance.models import VigilancePoint

from . import facets as counting
from .models import Category, Collectivity, Department, Initiative, Region, Theme

SEARCH_MAX_LENGTH = 200
LABEL_CHOICES = [(str(level), "@" * level if level else "0 @") for level in range(6)]


class SortChoices:
    RELEVANCE = "relevance"
    TITLE = "title"
    DEPARTMENT = "department"
    NEWEST = "newest"
    CHOICES = [
        (RELEVANCE, "pertinence"),
        (TITLE, "titre"),
        (DEPARTMENT, "département"),
        (NEWEST, "les plus récentes"),
    ]


class FacetOption(TypedDict):
    """One value of a facet in the filter form. A dict rather than an object:
    the template engine tries a key before an attribute, and a facet lists up
    to a hundred values (the departments), each read four times."""

    value: str
    label: str
    count: int
    is_selected: bool


@dataclass
class Facet:
    name: str
    label: str
    options: list[FacetOption]


class ChoicesField(django_filters.fields.MultipleChoiceField):
    """A facet's chosen values; a null character is refused as such, not
    echoed back in an "unknown value" message."""

    def validate(self, value):
        for item in value:
            ProhibitNullCharactersValidator()(item)
        super().validate(value)


class ChoicesFilter(django_filters.MultipleChoiceFilter):
    field_class = ChoicesField


def multiple(**kwargs):
    return ChoicesFilter(widget=forms.CheckboxSelectMultiple, distinct=False, **kwargs)


def model_multiple(**kwargs):
    # Chosen by code or slug: tell the OpenAPI schema they are strings.
    schema = {"type": "string", "description": kwargs["label"]}
    return extend_schema_field(schema)(
        # No DISTINCT: the many-to-many facets filter with an EXISTS.
        django_filters.ModelMultipleChoiceFilter(
            widget=forms.CheckboxSelectMultiple, distinct=False, **kwargs
        )
    )


def listed_multiple(**kwargs):
    """A facet whose values are rows of a model (LISTED), chosen in URLs by
    code or slug; its choices are given per FilterSet (InitiativeFilter)."""
    schema = {"type": "string", "description": kwargs["label"]}
    return extend_schema_field(schema)(multiple(**kwargs))


# The facets whose values are rows of a model: the model, the field naming a
# value in URLs, and the label shown.
LISTED = {
    "theme": (Theme, "slug", F("name")),
    "category": (Category, "slug", F("name")),
    "region": (Region, "code", F("name")),
    "department": (
        Department,
        "code",
        Concat("name", Value(" ("), "code", Value(")"), output_field=CharField()),
    ),
    "vigilance": (VigilancePoint, "slug", F("title")),
}


def listed_query():
    """The query of listed_values: the five lists' rows, in order."""
    parts = [
        model.objects.order_by()
        .annotate(
            facet_name=Value(name),
            facet_value=F(key),
            facet_label=label,
            facet_position=Window(RowNumber(), order_by=model._meta.ordering),
        )
        .values_list("facet_name", "pk", "facet_value", "facet_label", "facet_position")
        for name, (model, key, label) in LISTED.items()
    ]
    return parts[0].union(*parts[1:], all=True).order_by("facet_name", "facet_position")


@functools.cache
def listed_sql(using):
    """listed_query compiled once per process and database: the query never
    changes, and building it costs more than running it."""
    return listed_query().query.get_compiler(using).as_sql()


def listed_values(using):
    """Every LISTED facet's values, each in its model's order, as (raw key,
    value in the URL, label): one query for the five lists."""
    sql, params = listed_sql(using)
    listed = {name: [] for name in LISTED}
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)  # compiled by Django: values are parameters
        for name, pk, value, label, _ in cursor.fetchall():
            listed[name].append((str(pk), value, label))
    return listed


class ListedChoices:
    """A LISTED facet's (value in the URL, label) pairs, read from its
    FilterSet when first iterated. The form's fields are deep copies: this
    callable is shared by them, not copied with its FilterSet."""

    def __init__(self, filterset, name):
        self.filterset, self.name = filterset, name

    def __call__(self):
        return [(value, label) for _, value, label in self.filterset.choices(self.name)]

    def __deepcopy__(self, memo):
        return self


class InitiativeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Rechercher",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Titre, description ou nom de la collectivité ; accents et "
        "majuscules sont ignorés.",
    )
    department = listed_multiple(
        field_name="collectivity__department__code",
        label="Département",
    )
    region = listed_multiple(
        field_name="collectivity__department__region__code",
        label="Région",
    )
    theme = listed_multiple(
        field_name="themes__slug",
        method="filter_linked",
        label="Thème",
    )
    category = listed_multiple(
        field_name="category__slug",
        label="Catégorie de l'enquête",
    )
    kind = multiple(
        field_name="collectivity__kind",
        choices=Collectivity.Kind.choices,
        label="Type de collectivité",
    )
    label = multiple(
        field_name="collectivity__label_level",
        choices=LABEL_CHOICES,
        label="Label Villes Internet",
    )
    vigilance = listed_multiple(
        field_name="vigilance_points__slug",
        method="filter_linked",
        label="Point de vigilance",
    )
    period = multiple(
        field_name="period", choices=Initiative.Period.choices, label="Période"
    )
    featured = multiple(
        field_name="is_featured",
        choices=[("1", "bonnes pratiques à la une")],
        method="filter_featured",
        label="À la une",
    )
    sort = django_filters.ChoiceFilter(
        method="filter_sort",
        choices=SortChoices.CHOICES,
        empty_label=None,
        label="Trier par",
    )

    # The facets, in the order the filter form shows them.
    FACETS = tuple(counting.SOURCES)

    class Meta:
        model = Initiative
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The LISTED facets' choices, read when first needed (validating a
        # choice, listing the facets), once for the five.
        for name in LISTED:
            self.filters[name].extra["choices"] = ListedChoices(self, name)

    def filter_q(self, queryset, name, value):
        return queryset.search(value) if value.strip() else queryset

    def filter_linked(self, queryset, name, value):
        if not value:  # nothing chosen: `queryset.none()`, answered without SQL
            return queryset
        link = name.split("__")[0]
        facet = next(f for f, source in counting.SOURCES.items() if source.link == link)
        return counting.linked_to(queryset, facet, self.chosen(facet))

    def filter_featured(self, queryset, name, value):
        return queryset.filter(is_featured=True) if value else queryset

    def filter_sort(self, queryset, name, value):
        query = self.form.cleaned_data.get("q", "").strip()
        if value == SortChoices.RELEVANCE and query:
            return queryset.ranked(query)
        if value == SortChoices.DEPARTMENT:
            return queryset.order_by("collectivity__department__code", "title", "pk")
        if value == SortChoices.NEWEST:
            return queryset.order_by("-published_at", "-pk")
        return queryset.order_by("title", "pk")

    def filter_queryset(self, queryset):
        """Run each filter; on PostgreSQL, the facets together as one condition
        on the facet tokens (HavingTokens, initiatives/facets.py), planned from
        the selection's size when it was counted first: a narrow selection then
        costs its own size, not the catalogue's."""
        if connections[queryset.db].vendor != "postgresql":
            return super().filter_queryset(queryset)
        chosen = self.chosen_facets()
        for name, value in self.form.cleaned_data.items():
            if name not in chosen:
                queryset = self.filters[name].filter(queryset, value)
        if not chosen:
            return queryset
        sizes = lambda: self.__dict__.get("_sizes", counting.Sizes())  # noqa: E731
        return queryset.filter(counting.HavingTokens(chosen, sizes))

    @property
    def qs(self):
        queryset = super().qs
        if self.is_bound and self.form.cleaned_data.get("sort"):
            return queryset
        # No sort asked: by relevance while searching, else by title.
        return self.filter_sort(queryset, "sort", SortChoices.RELEVANCE)

    @property
    def current_sort(self):
        """Name the order the results are in (the asked one or the default)."""
        asked = self.form.cleaned_data.get("sort") if self.is_valid() else None
        query = self.form.cleaned_data.get("q", "").strip() if self.is_valid() else ""
        return asked or (SortChoices.RELEVANCE if query else SortChoices.TITLE)

    def error_list(self):
        """Pair each invalid parameter's French label with its error message."""
        return [
            (str(self.form.fields[name].label), error)
            for name, errors in self.errors.items()
            for error in errors
        ]

    def url_without(self, name, value=None):
        """Build the query string of this view without one value (or all values)
        of one parameter, back to page one."""
        data = self.data.copy()
        data.pop("page", None)
        kept = [v for v in data.getlist(name) if value is not None and v != value]
        data.setlist(name, kept)
        query = data.urlencode()
        return reverse("initiatives:list") + (f"?{query}" if query else "")

    def active_filters(self, facets):
        """List the active filters, each with the URL that removes it."""
        active = []
        query = self.data.get("q", "").strip()
        if query:
            active.append(
                {
                    "facet": "Recherche",
                    "label": f"« {query[:60]} »",
                    "url": self.url_without("q"),
                }
            )
        for facet in facets:
            for option in facet.options:
                if option["is_selected"]:
                    active.append(
                        {
                            "facet": facet.label,
                            "label": option["label"],
                            "url": self.url_without(facet.name, option["value"]),
                        }
                    )
        return active

    def export_url(self, route, drop=("page",)):
        """Give the URL of `route` (feed, CSV) for exactly this selection."""
        data = self.data.copy()
        for name in drop:
            data.pop(name, None)
        query = data.urlencode()
        return reverse(route) + (f"?{query}" if query else "")

    def feed_url(self):
        return self.export_url("initiatives:feed", drop=("page", "sort"))

    def filtered_without(self, excluded):
        """The published initiatives filtered by every valid filter but
        `excluded` (None: by all of them), unsorted."""
        self.is_valid()
        queryset = Initiative.objects.published()
        for name, value in self.form.cleaned_data.items():
            if name not in (excluded, "sort"):
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def searched(self):
        """The published initiatives the search finds, whatever the facets."""
        return self.filters["q"].filter(
            Initiative.objects.published(), self.form.cleaned_data["q"]
        )

    def choices(self, name):
        """List one facet's values as (raw key, value in the URL, label); the
        LISTED facets' cost one query, once."""
        if name in LISTED:
            if "_listed" not in self.__dict__:
                self._listed = listed_values(self.queryset.db)
            return self._listed[name]
        return [
            (str(v), str(v), str(label))
            for v, label in self.filters[name].extra["choices"]
        ]

    def chosen(self, name):
        """The raw keys of the values chosen in one facet."""
        values = self.form.cleaned_data.get(name) or []
        if name in LISTED and values:
            keys = {value: key for key, value, _ in self.choices(name)}
            return [keys[value] for value in values]
        return [str(value) for value in values]

    def chosen_facets(self):
        """The facets with a chosen value, each with its chosen raw keys."""
        return {name: keys for name in self.FACETS if (keys := self.chosen(name))}

    def is_searching(self):
        return bool(self.form.cleaned_data.get("q", "").strip())

    def raw_counts(self):
        """Count every facet's values and the selection's total, keyed by raw
        key (see initiatives/facets.py); cached. On SQLite one query; on
        PostgreSQL at most two: the counts whose selection has at most one facet
        and no search are read from the pair table (with the catalogue's size,
        without a search), the others tallied from the initiatives' tokens,
        once per distinct selection."""
        if "_raw_counts" in self.__dict__:
            return self._raw_counts
        self.is_valid()
        using = self.queryset.db
        if connections[using].vendor != "postgresql":
            self._raw_counts = counting.computed(self.filtered_without, self.FACETS)
            return self._raw_counts
        chosen = self.chosen_facets()
        searching = self.is_searching()
        # A facet's own counts ignore its choice: group the counts by the
        # selection they are restricted to.
        groups = {}
        for target in (*self.FACETS, counting.TOTAL):
            kept = {name: keys for name, keys in chosen.items() if name != target}
            key = tuple(sorted((name, tuple(keys)) for name, keys in kept.items()))
            groups.setdefault(key, (kept, []))[1].append(target)
        read, tallied = [], []
        for kept, targets in groups.values():
            if not searching and counting.readable(using, kept):
                read.append((kept, targets))
            else:
                tallied.append((kept, targets))
        if not searching:  # the catalogue's size, as HavingTokens needs it
            read.append(({}, [counting.TOTAL]))
        answers = counting.read(using, read) if read else []
        catalogue = answers.pop()[counting.TOTAL] if not searching else None
        within = self.searched() if searching else None
        counts = {}
        for answer in answers + (
            counting.tally(using, tallied, within) if tallied else []
        ):
            counts.update(answer)
        self._raw_counts = counts
        if not searching:  # the facets' own selection, as HavingTokens needs it
            self._sizes = counting.Sizes(counts[counting.TOTAL], catalogue)
        return counts

    def known_total(self):
        """The selection's total without a search, on PostgreSQL: read from the
        pair table when it gives it, else counted from the facet tokens (one
        small query either way, see initiatives/facets.py). None otherwise:
        counting is then the caller's."""
        chosen = self.chosen_facets()
        searching = self.is_searching()
        using = self.queryset.db
        if searching or connections[using].vendor != "postgresql":
            return None
        if counting.readable(using, chosen):
            requests = [(chosen, [counting.TOTAL]), ({}, [counting.TOTAL])]
            selection, catalogue = counting.read(using, requests)
            sizes = counting.Sizes(selection[counting.TOTAL], catalogue[counting.TOTAL])
        else:
            sizes = counting.counted(using, chosen)
        self._sizes = sizes
        return sizes.selection

    def total_count(self):
        """The number of published initiatives of the selection."""
        return self.raw_counts()[counting.TOTAL]

    def facet_counts(self):
        """Count, for every facet value (by its code or slug), the initiatives
        ticking it would give: the other facets' filters apply, its own does not."""
        return {name: self.facet_count(name) for name in self.FACETS}

    def facet_count(self, name):
        """Count the initiatives each value of one facet would give."""
        raw = self.raw_counts()[name]
        return {value: raw[key] for key, value, _ in self.choices(name) if raw.get(key)}

    def facets(self):
        """Describe each facet for the filter form: the values that have results
        or are selected, with their counts. Costs the counts' query and the
        LISTED facets' values (one query for the five, read once per FilterSet)."""
        facets = []
        for name in self.FACETS:
            raw = self.raw_counts()[name]
            chosen = set(self.chosen(name))
            options = [
                FacetOption(
                    value=value,
                    label=label,
                    count=raw.get(key, 0),
                    is_selected=key in chosen,
                )
                for key, value, label in self.choices(name)
                if raw.get(key) or key in chosen
            ]
            facets.append(Facet(name, str(self.form.fields[name].label), options))
        return facets


class CollectivityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Rechercher",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Début ou partie du nom, code INSEE ou SIREN, code postal.",
    )
    department = model_multiple(
        field_name="department__code",
        to_field_name="code",
        queryset=Department.objects.all(),
        label="Département",
    )
    region = model_multiple(
        field_name="department__region__code",
        to_field_name="code",
        queryset=Region.objects.all(),
        label="Région",
    )
    kind = multiple(
        field_name="kind", choices=Collectivity.Kind.choices, label="Nature"
    )
    label = multiple(
        field_name="label_level", choices=LABEL_CHOICES, label="Label Villes Internet"
    )
    has_initiatives = django_filters.BooleanFilter(
        method="filter_has_initiatives",
        label="Avec des initiatives publiées",
        help_text="true : seulement les collectivités qui ont au moins une "
        "initiative publiée.",
    )

    class Meta:
        model = Collectivity
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.matching(value)

    def filter_has_initiatives(self, queryset, name, value):
        published = Initiative.objects.published().filter(collectivity=OuterRef("pk"))
        return queryset.filter(Exists(published) if value else ~Exists(published))
