"""JSON shapes of the catalogue, for the API and the open-data downloads.

Every serializer lists its fields explicitly: a rename is an API change, and a new
column must not leak. Nothing here reaches a submitter's contact data.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import batched
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import OuterRef, QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Category, Collectivity, Department, Initiative, Region, Theme


class CalledField(serializers.CharField):
    """A read-only string that a method of the object gives (`source`), called
    directly: DRF would inspect the method's signature for every object, which
    costs more than the call."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return getattr(instance, self.source)()


class PageUrlField(CalledField):
    """The absolute URL of the object's HTML page."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "get_absolute_url")
        kwargs.setdefault("help_text", "Adresse de la page HTML correspondante.")
        super().__init__(**kwargs)

    def to_representation(self, value):
        request = self.context.get("request")
        return request.build_absolute_uri(value) if request else value


class RegionSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:region-detail", lookup_field="code"
    )

    class Meta:
        model = Region
        fields = ["url", "code", "name"]


class RegionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name"]


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["code", "name"]


class DepartmentSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:department-detail", lookup_field="code"
    )
    page_url = PageUrlField()
    region = RegionRefSerializer(read_only=True)

    class Meta:
        model = Department
        fields = ["url", "page_url", "code", "name", "region"]


class CollectivityRefSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:collectivity-detail", lookup_field="code"
    )
    page_url = PageUrlField()

    class Meta:
        model = Collectivity
        fields = ["url", "page_url", "code", "siren", "name", "kind"]


class CollectivitySerializer(CollectivityRefSerializer):
    kind_label = CalledField(source="get_kind_display", help_text="Nature, en clair.")
    department = DepartmentRefSerializer(read_only=True)
    region = RegionRefSerializer(source="department.region", read_only=True)

    class Meta:
        model = Collectivity
        fields = [
            "url",
            "page_url",
            "code",
            "siren",
            "name",
            "slug",
            "kind",
            "kind_label",
            "department",
            "region",
            "population",
            "label_level",
            "label_year",
            "website",
        ]


class CategorySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:category-detail", lookup_field="slug"
    )

    class Meta:
        model = Category
        fields = ["url", "slug", "name", "description"]


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name"]


class ThemeSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:theme-detail", lookup_field="slug"
    )
    page_url = PageUrlField()

    class Meta:
        model = Theme
        fields = ["url", "page_url", "slug", "name", "summary"]


class ThemeRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Theme
        fields = ["slug", "name"]


class VigilancePointRefSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    title = serializers.CharField(read_only=True, help_text="Intitulé du point.")


class ImageSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Adresse de l'image.")
    alt = serializers.CharField(help_text="Texte alternatif.")
    width = serializers.IntegerField(help_text="Largeur en pixels.", allow_null=True)
    height = serializers.IntegerField(help_text="Hauteur en pixels.", allow_null=True)


class InitiativeSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:initiative-detail", lookup_field="slug"
    )
    page_url = PageUrlField()
    collectivity = CollectivityRefSerializer(read_only=True)
    department = DepartmentRefSerializer(
        source="collectivity.department", read_only=True
    )
    region = RegionRefSerializer(
        source="collectivity.department.region", read_only=True
    )
    category = CategoryRefSerializer(read_only=True)
    themes = ThemeRefSerializer(many=True, read_only=True)
    vigilance_points = VigilancePointRefSerializer(many=True, read_only=True)
    period_label = CalledField(
        source="get_period_display", help_text="Période, en clair."
    )
    outcome_label = CalledField(
        source="get_outcome_display",
        help_text="Ce qu'il est advenu de l'initiative, en clair.",
    )
    image = serializers.SerializerMethodField(
        help_text="L'image et son texte alternatif, ou null."
    )

    class Meta:
        model = Initiative
        fields = [
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
        ]

    @extend_schema_field(ImageSerializer(allow_null=True))
    def get_image(self, initiative):
        if not initiative.image:
            return None
        request = self.context.get("request")
        url = initiative.image.url
        return {
            "url": request.build_absolute_uri(url) if request else url,
            "alt": initiative.image_alt,
            "width": initiative.image_width,
            "height": initiative.image_height,
        }


# Open-data files: one description of each column drives the CSV, the JSON
# download, the Table Schema and its README, so they cannot drift apart.

LIST_SEPARATOR = "|"
# A slug that no route holds: page URLs are reversed once around it.
SLUG_MARKER = "slug-marker"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    example: str
    # The field the cell reads, spelled as in `values()`; for a list, the
    # many-to-many relation and the field of each item ("themes__slug").
    source: str
    required: bool = False
    extra: dict = field(default_factory=dict)
    # Given the site's base URL, make the function that turns the source value
    # into the cell: called once per download, not once per row.
    prepare: Callable[[str], Callable[[Any], Any]] | None = None

    def schema(self) -> dict[str, Any]:
        described = {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "example": self.example,
            "constraints": {"required": self.required},
        }
        if self.type == "list":
            described.update(delimiter=LIST_SEPARATOR, itemType="string")
        described.update(self.extra)
        return described


def iso_format(value):
    return None if value is None else value.isoformat()


# A text cell starting with one of these is a formula to a spreadsheet
# (=HYPERLINK(…), +, -, @, or a tab or carriage return before one): the CSV
# writes it after an apostrophe, which spreadsheets read as "this is text".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_GUARD = "'"


def spreadsheet_safe(text):
    """Write a text cell so that no spreadsheet runs it as a formula."""
    if text and text.startswith(FORMULA_STARTS):
        return FORMULA_GUARD + text
    return text


# How each type of column is written, beyond what the csv and json modules do
# themselves (None is an empty CSV cell, a JSON null). CSV: ISO 8601 dates,
# true/false, lists joined with LIST_SEPARATOR, text safe from spreadsheets.
CSV_CELLS = {
    "string": spreadsheet_safe,
    "boolean": {True: "true", False: "false"}.get,
    "date": iso_format,
    "datetime": iso_format,
    "list": LIST_SEPARATOR.join,
}
JSON_CELLS = {"date": iso_format, "datetime": iso_format}


def page_url(route):
    """Make a column's `prepare` for the absolute URL of `route`, whose only
    argument is the column's source (a slug)."""

    def prepare(base_url):
        before, after = reverse(route, args=[SLUG_MARKER]).split(SLUG_MARKER)
        prefix = base_url + before
        return lambda slug: prefix + slug + after

    return prepare


def image_url(base_url):
    storage = Initiative._meta.get_field("image").storage
    return lambda name: base_url + storage.url(name) if name else None


INITIATIVE_COLUMNS = [
    Column(
        "slug",
        "string",
        "Identifiant stable de l'initiative, dans son adresse.",
        "beauvais-marche-primeurs-en-ligne",
        "slug",
        required=True,
        extra={
            "constraints": {
                "required": True,
                "unique": True,
                "pattern": "^[-a-z0-9_]+$",
            }
        },
    ),
    Column(
        "title",
        "string",
        "Titre.",
        "Un marché primeurs en ligne",
        "title",
        required=True,
    ),
    Column(
        "summary",
        "string",
        "Résumé en une ou deux phrases.",
        "Beauvais a mis en place un service de commande en ligne…",
        "summary",
        required=True,
    ),
    Column(
        "description",
        "string",
        "Description complète.",
        "Pour soutenir…",
        "description",
    ),
    Column(
        "results",
        "string",
        "Résultats et chiffres donnés par la source.",
        "230 commandes passées auprès de 11 producteurs…",
        "results",
    ),
    Column(
        "website",
        "string",
        "Site internet de l'initiative.",
        "https://www.beauvais.fr/",
        "website",
        extra={"format": "uri"},
    ),
    Column(
        "collectivity_code",
        "string",
        "Code officiel de la collectivité : code INSEE (5 caractères) pour une "
        "commune, SIREN (9 chiffres) pour une intercommunalité.",
        "60057",
        "collectivity__code",
        required=True,
        extra={
            "constraints": {
                "required": True,
                "pattern": "^([0-9]{2}|2A|2B)[0-9]{3}$|^[0-9]{9}$",
            }
        },
    ),
    Column(
        "collectivity_siren",
        "string",
        "SIREN de la collectivité.",
        "216000562",
        "collectivity__siren",
    ),
    Column(
        "collectivity_name",
        "string",
        "Nom officiel de la collectivité.",
        "Beauvais",
        "collectivity__name",
        required=True,
    ),
    Column(
        "collectivity_kind",
        "string",
        "Nature : commune, cc (communauté de communes), ca (communauté "
        "d'agglomération), cu (communauté urbaine), metropole.",
        "commune",
        "collectivity__kind",
        required=True,
        extra={
            "constraints": {
                "required": True,
                "enum": ["commune", "cc", "ca", "cu", "metropole"],
            }
        },
    ),
    Column(
        "department_code",
        "string",
        "Code INSEE du département.",
        "60",
        "collectivity__department__code",
        required=True,
    ),
    Column(
        "department_name",
        "string",
        "Nom du département.",
        "Oise",
        "collectivity__department__name",
        required=True,
    ),
    Column(
        "region_code",
        "string",
        "Code INSEE de la région.",
        "32",
        "collectivity__department__region__code",
        required=True,
    ),
    Column(
        "region_name",
        "string",
        "Nom de la région.",
        "Hauts-de-France",
        "collectivity__department__region__name",
        required=True,
    ),
    Column(
        "category",
        "string",
        "Catégorie de l'appel à idées (identifiant).",
        "economie-locale",
        "category__slug",
        required=True,
    ),
    Column(
        "themes",
        "list",
        f"Thèmes (identifiants), séparés par « {LIST_SEPARATOR} ».",
        "economie-locale|solidarite-numerique",
        "themes__slug",
    ),
    Column(
        "vigilance_points",
        "list",
        f"Points de vigilance touchés (identifiants), séparés par "
        f"« {LIST_SEPARATOR} ».",
        "cybersecurite",
        "vigilance_points__slug",
    ),
    Column(
        "period",
        "string",
        "Phase de la crise : lockdown1, lockdown2, lockdown3, lockdowns "
        "(plusieurs confinements), crisis (toute la crise), unknown.",
        "lockdown1",
        "period",
        required=True,
        extra={
            "constraints": {
                "required": True,
                "enum": [
                    "lockdown1",
                    "lockdown2",
                    "lockdown3",
                    "lockdowns",
                    "crisis",
                    "unknown",
                ],
            }
        },
    ),
    Column(
        "started_on",
        "date",
        "Date de début, si connue (AAAA-MM-JJ).",
        "2020-03-17",
        "started_on",
    ),
    Column(
        "ended_on",
        "date",
        "Date de fin, si connue (AAAA-MM-JJ).",
        "2020-05-11",
        "ended_on",
    ),
    Column(
        "outcome",
        "string",
        "Ce qu'il en est advenu : continued (poursuivie), permanent (pérennisée), "
        "stopped (arrêtée), unknown.",
        "unknown",
        "outcome",
        required=True,
        extra={
            "constraints": {
                "required": True,
                "enum": ["continued", "permanent", "stopped", "unknown"],
            }
        },
    ),
    Column(
        "is_featured",
        "boolean",
        "Bonne pratique mise à la une (true/false).",
        "true",
        "is_featured",
        required=True,
    ),
    Column(
        "image_url",
        "string",
        "Adresse de l'image.",
        "",
        "image",
        prepare=image_url,
        extra={"format": "uri"},
    ),
    Column(
        "image_alt",
        "string",
        "Texte alternatif de l'image.",
        "",
        "image_alt",
    ),
    Column(
        "source_note",
        "string",
        "Source de l'information.",
        "Villes Internet et Villes de France (2021)…",
        "source_note",
    ),
    Column(
        "page_url",
        "string",
        "Adresse de la fiche sur le portail.",
        "https://exemple.fr/initiatives/beauvais-marche-primeurs-en-ligne/",
        "slug",
        prepare=page_url("initiatives:detail"),
        required=True,
        extra={"format": "uri"},
    ),
    Column(
        "published_at",
        "datetime",
        "Date et heure de publication (ISO 8601).",
        "2026-11-22T10:00:00+01:00",
        "published_at",
        required=True,
    ),
    Column(
        "updated_at",
        "datetime",
        "Date et heure de dernière modification.",
        "2026-11-22T10:00:00+01:00",
        "updated_at",
        required=True,
    ),
]

COLLECTIVITY_COLUMNS = [
    Column(
        "code",
        "string",
        "Code INSEE (commune) ou SIREN (intercommunalité).",
        "13056",
        "code",
        required=True,
        extra={"constraints": {"required": True, "unique": True}},
    ),
    Column("siren", "string", "SIREN.", "211300561", "siren"),
    Column(
        "name",
        "string",
        "Nom officiel.",
        "Martigues",
        "name",
        required=True,
    ),
    Column(
        "kind",
        "string",
        "Nature : commune, cc, ca, cu, metropole.",
        "commune",
        "kind",
        required=True,
    ),
    Column(
        "department_code",
        "string",
        "Code INSEE du département.",
        "13",
        "department__code",
        required=True,
    ),
    Column(
        "department_name",
        "string",
        "Nom du département.",
        "Bouches-du-Rhône",
        "department__name",
        required=True,
    ),
    Column(
        "region_code",
        "string",
        "Code INSEE de la région.",
        "93",
        "department__region__code",
        required=True,
    ),
    Column(
        "region_name",
        "string",
        "Nom de la région.",
        "Provence-Alpes-Côte d'Azur",
        "department__region__name",
        required=True,
    ),
    Column(
        "population",
        "integer",
        "Population (INSEE).",
        "48298",
        "population",
    ),
    Column(
        "label_level",
        "integer",
        "Label Villes Internet : nombre de « @ » (0 à 5).",
        "4",
        "label_level",
        extra={"constraints": {"required": False, "minimum": 0, "maximum": 5}},
    ),
    Column("label_year", "integer", "Année du label.", "2021", "label_year"),
    Column(
        "initiative_count",
        "integer",
        "Nombre d'initiatives publiées.",
        "6",
        "initiative_count",
        required=True,
    ),
    Column(
        "page_url",
        "string",
        "Adresse de la page sur le portail.",
        "https://exemple.fr/collectivites/martigues-13/",
        "slug",
        prepare=page_url("initiatives:collectivity_detail"),
        required=True,
        extra={"format": "uri"},
    ),
]


def list_items(model, source):
    """Split a list column's source ("themes__slug") into the queryset of the
    items, in their model's order, the lookup from them back to `model`, and
    the items' field."""
    relation, name = source.split("__")
    many = model._meta.get_field(relation)
    items = many.related_model._default_manager.all()
    return items, many.related_query_name(), name


def items_by_row(model, source, ids):
    """Map each of the `ids` to its items' list for a list column. One query."""
    items, back, name = list_items(model, source)
    by_row = defaultdict(list)
    for pk, value in items.filter(**{f"{back}__in": ids}).values_list(back, name):
        by_row[pk].append(value)
    return by_row


def rows(
    queryset: QuerySet,
    columns: list[Column],
    base_url: str,
    cells: dict[str, Callable[[Any], Any]],
    chunk_size: int,
) -> Iterator[list[tuple]]:
    """Read the queryset as rows of cells, one per column, in lists of at most
    `chunk_size` rows; neither model instances nor URLs are built per row.

    PostgreSQL: one query, read through a server-side cursor, gathers each row's
    list columns as arrays. Other databases: one query for the rows, plus one
    per list column for each list of rows."""
    model = queryset.model
    sources = {c.source: c.source for c in columns if c.type != "list"}
    in_arrays = connections[queryset.db].vendor == "postgresql"
    if in_arrays:
        for column in columns:
            if column.type == "list":
                items, back, name = list_items(model, column.source)
                related = items.filter(**{back: OuterRef("pk")}).values(name)
                sources[column.source] = f"{column.name}_array"
                queryset = queryset.annotate(
                    **{sources[column.source]: ArraySubquery(related)}
                )
    position = {source: index for index, source in enumerate(sources, 1)}
    convert = [
        column.prepare(base_url) if column.prepare else cells.get(column.type)
        for column in columns
    ]
    fetched = queryset.values_list("pk", *sources.values())
    for chunk in batched(fetched.iterator(chunk_size=chunk_size), chunk_size):
        fields = list(zip(*chunk, strict=True))
        ids = fields[0]
        values = []
        for column in columns:
            if column.source in position:
                values.append(fields[position[column.source]])
            else:
                by_row = items_by_row(model, column.source, ids)
                values.append([by_row.get(pk, []) for pk in ids])
        cells_by_column = [
            map(function, column) if function else column
            for function, column in zip(convert, values, strict=True)
        ]
        yield list(zip(*cells_by_column, strict=True))
