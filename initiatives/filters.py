"""The one FilterSet of the catalogue: the list page, its feed, the CSV export and
the API all read their query parameters through it, so a URL means the same thing
everywhere. Values within a facet are OR-ed, facets are AND-ed. The facets'
filters come from the facet registry (initiatives/facets/registry.py); their
counts, the planning of their query and the links to a selection live beside
it, in the facets package."""

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db import connections
from django.db.models import Exists, OuterRef
from drf_spectacular.utils import extend_schema_field

from .facets.planning import HavingTokens
from .facets.registry import (
    FACETS,
    LABEL_CHOICES,
    Listed,
    choice_values,
    listed_values,
)
from .models import Collectivity, Department, Initiative, Region

SEARCH_MAX_LENGTH = 200


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


class FacetChoices:
    """A facet's (value in the URL, label) pairs, read from its FilterSet when
    first iterated. The form's fields are deep copies: this callable is shared
    by them, not copied with its FilterSet."""

    def __init__(self, filterset, name):
        self.filterset, self.name = filterset, name

    def __call__(self):
        return [(value, label) for _, value, label in self.filterset.choices(self.name)]

    def __deepcopy__(self, memo):
        return self


def facet_filter(facet):
    """The filter of one facet of the registry, documented in the API's schema."""
    schema = {"type": "string", "description": facet.description}
    return extend_schema_field(schema)(
        multiple(field_name=facet.key, method="filter_facet", label=facet.label)
    )


class InitiativeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Rechercher",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Titre, description ou nom de la collectivité ; accents et "
        "majuscules sont ignorés.",
    )
    sort = django_filters.ChoiceFilter(
        method="filter_sort",
        choices=SortChoices.CHOICES,
        empty_label=None,
        label="Trier par",
    )

    class Meta:
        model = Initiative
        fields = []

    @classmethod
    def get_filters(cls):
        """The declared filters, then one per facet of the registry."""
        filters = super().get_filters()
        for facet in FACETS:
            filters[facet.key] = facet_filter(facet)
        return filters

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each facet's choices, read when first needed (validating a choice,
        # listing the facets), once for all the listed ones.
        for facet in FACETS:
            self.filters[facet.key].extra["choices"] = FacetChoices(self, facet.key)

    def filter_q(self, queryset, name, value):
        return queryset.search(value) if value.strip() else queryset

    def filter_facet(self, queryset, name, value):
        if not value:  # nothing chosen: `queryset.none()`, answered without SQL
            return queryset
        return queryset.filter(FACETS[name].condition(self.chosen(name)))

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
        on the facet tokens (facets/planning.py), which the planner answers
        until facets.planning.sized() plans it with the selection's size."""
        if connections[queryset.db].vendor != "postgresql":
            return super().filter_queryset(queryset)
        chosen = self.chosen_facets()
        for name, value in self.form.cleaned_data.items():
            if name not in chosen:
                queryset = self.filters[name].filter(queryset, value)
        return queryset.filter(HavingTokens(chosen)) if chosen else queryset

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
        listed facets' cost one query, once."""
        facet = FACETS[name]
        if isinstance(facet.values, Listed):
            if "_listed" not in self.__dict__:
                self._listed = listed_values(self.queryset.db)
            return self._listed[name]
        return choice_values(facet)

    def chosen(self, name):
        """The raw keys of the values chosen in one facet."""
        values = self.form.cleaned_data.get(name) or []
        if values:
            keys = {value: key for key, value, _ in self.choices(name)}
            return [keys[value] for value in values]
        return []

    def chosen_facets(self):
        """The facets with a chosen value, each with its chosen raw keys."""
        return {name: keys for name in FACETS.keys() if (keys := self.chosen(name))}

    def is_searching(self):
        return bool(self.form.cleaned_data.get("q", "").strip())


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
