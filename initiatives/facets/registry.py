"""What a facet is: one declaration each, in FACETS, and nothing else.

A facet is a way to narrow the catalogue that the list, its feed, its exports,
the API, the map and the survey's charts share. Its declaration says:

- `key`: its URL parameter (`?department=13`) and the prefix of its tokens;
- `label`: its French name, the filter form's legend and the API's wording;
- `path`: where an initiative's value is, as the ORM spells it from
  `Initiative`: a field (`period`), a foreign key (`collectivity__department`)
  or a many-to-many relation (`themes`);
- `values`: where its values come from: rows of a model, named in URLs by one
  of their fields (`Listed`), or a fixed list (`Choices`).

Derived from it: the FilterSet's filters (filters.py), the filter form's
options (options.py), the counts (counts.py), the PostgreSQL token function and
triggers (tokens.py), the catalogue links of the survey's charts (links.py) and
the API's documentation of each parameter. A value is keyed everywhere by its
raw key: a row's primary key (its slug or code may change), a choice's stored
value, "1" for true.
"""

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import connections, models
from django.db.models import CharField, F, Value, Window
from django.db.models.functions import Concat, RowNumber

from ..models import (
    LABEL_MAX,
    Category,
    Collectivity,
    Department,
    Initiative,
    PopulationBand,
    Region,
    Theme,
)


@dataclass(frozen=True)
class Listed:
    """Values that are the rows of a model, named in URLs by `field`, shown as
    `label` (an expression on the model). Another app's model is named by its
    label ("vigilance.VigilancePoint"): the catalogue imports no other app."""

    source: type[models.Model] | str
    field: str
    label: models.Expression

    @property
    def model(self) -> type[models.Model]:
        if isinstance(self.source, str):
            return apps.get_model(self.source)
        return self.source


@dataclass(frozen=True)
class Choices:
    """Values from a fixed list of (value, label)."""

    choices: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Facet:
    key: str
    label: str
    path: str
    values: Listed | Choices

    @functools.cached_property
    def fields(self) -> list[models.Field]:
        """The model fields the path walks, from Initiative to the value."""
        model, fields = Initiative, []
        for name in self.path.split("__"):
            field = model._meta.get_field(name)
            fields.append(field)
            model = field.related_model
        return fields

    @property
    def link(self) -> models.ManyToManyField | None:
        """The many-to-many relation holding the values, if the facet is one."""
        field = self.fields[0]
        return field if field.many_to_many else None

    @property
    def through(self) -> type[models.Model]:
        return self.link.remote_field.through

    @property
    def target(self) -> str:
        """The link table's field holding the value: "theme"."""
        return self.link.m2m_reverse_field_name()

    @property
    def raw_path(self) -> str:
        """The ORM path of the raw key: from Initiative ("collectivity__
        department_id"), or within the link table ("theme_id")."""
        if self.link:
            return f"{self.target}_id"
        last = self.fields[-1]
        return f"{self.path}_id" if last.is_relation else self.path

    @property
    def url_path(self) -> str:
        """The ORM path of the value as URLs name it: "collectivity__
        department__code", "collectivity__kind"."""
        if isinstance(self.values, Listed):
            return f"{self.path}__{self.values.field}"
        return self.path

    @property
    def is_boolean(self) -> bool:
        return isinstance(self.fields[-1], models.BooleanField)

    def condition(self, keys: list[str]) -> models.Q | models.Exists:
        """The ORM condition keeping the initiatives having one of `keys` (raw
        keys), each once (an EXISTS for a many-to-many facet: no DISTINCT)."""
        if self.link:
            links = self.through.objects.filter(
                initiative=models.OuterRef("pk"), **{f"{self.target}__in": keys}
            )
            return models.Exists(links)
        if self.is_boolean:
            return models.Q(**{self.path: True}) if "1" in keys else models.Q()
        return models.Q(**{f"{self.raw_path}__in": keys})

    def token(self, key: str) -> str:
        return f"{self.key}:{key}"

    @property
    def description(self) -> str:
        """Describe the URL parameter, for the API's documentation."""
        if isinstance(self.values, Choices):
            named = ", ".join(
                f"{value} ({label})" for value, label in self.values.choices
            )
        else:
            field = self.values.model._meta.get_field(self.values.field)
            kind = (
                "identifiant"
                if isinstance(field, models.SlugField)
                else field.verbose_name
            )
            named = f"{kind} d'un(e) {self.values.model._meta.verbose_name}"
        return f"{self.label} : {named}. Répété, les valeurs s'ajoutent (OU)."


class Registry:
    """The facets, in the order the filter form shows them."""

    def __init__(self, facets: list[Facet]):
        self._facets = {facet.key: facet for facet in facets}

    def __iter__(self) -> Iterator[Facet]:
        return iter(self._facets.values())

    def __getitem__(self, key: str) -> Facet:
        return self._facets[key]

    def __contains__(self, key: str) -> bool:
        return key in self._facets

    def keys(self) -> list[str]:
        return list(self._facets)

    def listed(self) -> list[Facet]:
        return [facet for facet in self if isinstance(facet.values, Listed)]


LABEL_CHOICES = tuple(
    (str(level), "@" * level if level else "0 @") for level in range(LABEL_MAX + 1)
)

FACETS = Registry(
    [
        Facet(
            "department",
            "Département",
            "collectivity__department",
            Listed(
                Department,
                "code",
                Concat(
                    "name", Value(" ("), "code", Value(")"), output_field=CharField()
                ),
            ),
        ),
        Facet(
            "region",
            "Région",
            "collectivity__department__region",
            Listed(Region, "code", F("name")),
        ),
        Facet("theme", "Thème", "themes", Listed(Theme, "slug", F("name"))),
        Facet(
            "category",
            "Catégorie de l'enquête",
            "category",
            Listed(Category, "slug", F("name")),
        ),
        Facet(
            "kind",
            "Type de collectivité",
            "collectivity__kind",
            Choices(tuple(Collectivity.Kind.choices)),
        ),
        Facet(
            "size",
            "Taille de la collectivité",
            "collectivity__population_band",
            Choices(tuple(PopulationBand.choices)),
        ),
        Facet(
            "label",
            "Label Villes Internet",
            "collectivity__label_level",
            Choices(LABEL_CHOICES),
        ),
        Facet(
            "vigilance",
            "Point de vigilance",
            "vigilance_points",
            Listed("vigilance.VigilancePoint", "slug", F("title")),
        ),
        Facet("period", "Période", "period", Choices(tuple(Initiative.Period.choices))),
        Facet(
            "featured",
            "À la une",
            "is_featured",
            Choices((("1", "bonnes pratiques à la une"),)),
        ),
    ]
)


def listed_query():
    """The query of listed_values: every Listed facet's rows, in order."""
    parts = [
        facet.values.model.objects.order_by()
        .annotate(
            facet_name=Value(facet.key),
            facet_value=F(facet.values.field),
            facet_label=facet.values.label,
            facet_position=Window(
                RowNumber(), order_by=facet.values.model._meta.ordering
            ),
        )
        .values_list("facet_name", "pk", "facet_value", "facet_label", "facet_position")
        for facet in FACETS.listed()
    ]
    return parts[0].union(*parts[1:], all=True).order_by("facet_name", "facet_position")


@functools.cache
def listed_sql(using):
    """listed_query compiled once per process and database: the query never
    changes, and building it costs more than running it."""
    return listed_query().query.get_compiler(using).as_sql()


def listed_values(using) -> dict[str, list[tuple[str, str, str]]]:
    """Every Listed facet's values, each in its model's order, as (raw key,
    value in the URL, label): one query for them all."""
    sql, params = listed_sql(using)
    listed = {facet.key: [] for facet in FACETS.listed()}
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)  # compiled by Django: values are parameters
        for name, pk, value, label, _ in cursor.fetchall():
            listed[name].append((str(pk), value, label))
    return listed


def choice_values(facet: Facet) -> list[tuple[str, str, str]]:
    """A Choices facet's values as (raw key, value in the URL, label)."""
    return [
        (str(value), str(value), str(label)) for value, label in facet.values.choices
    ]


def raw_key(value) -> str:
    """Spell a stored value as the counts' key: "1" for True, "12" for 12."""
    if isinstance(value, bool):
        return "1" if value else ""
    return "" if value is None else str(value)
