"""JSON shapes of the catalogue, for the API and the open-data downloads.

Every serializer lists its fields explicitly: a rename is an API change, and a new
column must not leak. Nothing here reaches a submitter's contact data.
"""

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Category, Collectivity, Department, Initiative, Region, Theme


class PageUrlField(serializers.CharField):
    """The absolute URL of the object's HTML page."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "get_absolute_url")
        kwargs.setdefault("read_only", True)
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
    kind_label = serializers.CharField(
        source="get_kind_display", read_only=True, help_text="Nature, en clair."
    )
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
    width = serializers.IntegerField(help_text="Largeur en pixels.")
    height = serializers.IntegerField(help_text="Hauteur en pixels.")


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
    period_label = serializers.CharField(
        source="get_period_display", read_only=True, help_text="Période, en clair."
    )
    outcome_label = serializers.CharField(
        source="get_outcome_display",
        read_only=True,
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
            "width": initiative.image.width,
            "height": initiative.image.height,
        }


# Open-data files: one description of each column drives the CSV, the JSON
# download, the Table Schema and its README, so they cannot drift apart.

LIST_SEPARATOR = "|"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    example: str
    value: Callable[[Any, str], Any]
    required: bool = False
    extra: dict = field(default_factory=dict)

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


def csv_cell(value: Any) -> str:
    """Write a value as the CSV and its schema expect: ISO 8601 dates, true/false,
    lists joined with LIST_SEPARATOR, empty for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def json_cell(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def image_url(initiative, base_url):
    return base_url + initiative.image.url if initiative.image else None


INITIATIVE_COLUMNS = [
    Column(
        "slug",
        "string",
        "Identifiant stable de l'initiative, dans son adresse.",
        "beauvais-marche-primeurs-en-ligne",
        lambda i, b: i.slug,
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
        lambda i, b: i.title,
        required=True,
    ),
    Column(
        "summary",
        "string",
        "Résumé en une ou deux phrases.",
        "Beauvais a mis en place un service de commande en ligne…",
        lambda i, b: i.summary,
        required=True,
    ),
    Column(
        "description",
        "string",
        "Description complète.",
        "Pour soutenir…",
        lambda i, b: i.description,
    ),
    Column(
        "results",
        "string",
        "Résultats et chiffres donnés par la source.",
        "230 commandes passées auprès de 11 producteurs…",
        lambda i, b: i.results,
    ),
    Column(
        "website",
        "string",
        "Site internet de l'initiative.",
        "https://www.beauvais.fr/",
        lambda i, b: i.website,
        extra={"format": "uri"},
    ),
    Column(
        "collectivity_code",
        "string",
        "Code officiel de la collectivité : code INSEE (5 caractères) pour une "
        "commune, SIREN (9 chiffres) pour une intercommunalité.",
        "60057",
        lambda i, b: i.collectivity.code,
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
        lambda i, b: i.collectivity.siren,
    ),
    Column(
        "collectivity_name",
        "string",
        "Nom officiel de la collectivité.",
        "Beauvais",
        lambda i, b: i.collectivity.name,
        required=True,
    ),
    Column(
        "collectivity_kind",
        "string",
        "Nature : commune, cc (communauté de communes), ca (communauté "
        "d'agglomération), cu (communauté urbaine), metropole.",
        "commune",
        lambda i, b: i.collectivity.kind,
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
        lambda i, b: i.collectivity.department.code,
        required=True,
    ),
    Column(
        "department_name",
        "string",
        "Nom du département.",
        "Oise",
        lambda i, b: i.collectivity.department.name,
        required=True,
    ),
    Column(
        "region_code",
        "string",
        "Code INSEE de la région.",
        "32",
        lambda i, b: i.collectivity.department.region.code,
        required=True,
    ),
    Column(
        "region_name",
        "string",
        "Nom de la région.",
        "Hauts-de-France",
        lambda i, b: i.collectivity.department.region.name,
        required=True,
    ),
    Column(
        "category",
        "string",
        "Catégorie de l'appel à idées (identifiant).",
        "economie-locale",
        lambda i, b: i.category.slug,
        required=True,
    ),
    Column(
        "themes",
        "list",
        f"Thèmes (identifiants), séparés par « {LIST_SEPARATOR} ».",
        "economie-locale|solidarite-numerique",
        lambda i, b: [t.slug for t in i.themes.all()],
    ),
    Column(
        "vigilance_points",
        "list",
        f"Points de vigilance touchés (identifiants), séparés par "
        f"« {LIST_SEPARATOR} ».",
        "cybersecurite",
        lambda i, b: [p.slug for p in i.vigilance_points.all()],
    ),
    Column(
        "period",
        "string",
        "Phase de la crise : lockdown1, lockdown2, lockdown3, lockdowns "
        "(plusieurs confinements), crisis (toute la crise), unknown.",
        "lockdown1",
        lambda i, b: i.period,
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
        lambda i, b: i.started_on,
    ),
    Column(
        "ended_on",
        "date",
        "Date de fin, si connue (AAAA-MM-JJ).",
        "2020-05-11",
        lambda i, b: i.ended_on,
    ),
    Column(
        "outcome",
        "string",
        "Ce qu'il en est advenu : continued (poursuivie), permanent (pérennisée), "
        "stopped (arrêtée), unknown.",
        "unknown",
        lambda i, b: i.outcome,
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
        lambda i, b: i.is_featured,
        required=True,
    ),
    Column(
        "image_url",
        "string",
        "Adresse de l'image.",
        "",
        image_url,
        extra={"format": "uri"},
    ),
    Column(
        "image_alt",
        "string",
        "Texte alternatif de l'image.",
        "",
        lambda i, b: i.image_alt,
    ),
    Column(
        "source_note",
        "string",
        "Source de l'information.",
        "Villes Internet et Villes de France (2021)…",
        lambda i, b: i.source_note,
    ),
    Column(
        "page_url",
        "string",
        "Adresse de la fiche sur le portail.",
        "https://exemple.fr/initiatives/beauvais-marche-primeurs-en-ligne/",
        lambda i, b: b + i.get_absolute_url(),
        required=True,
        extra={"format": "uri"},
    ),
    Column(
        "published_at",
        "datetime",
        "Date et heure de publication (ISO 8601).",
        "2026-11-22T10:00:00+01:00",
        lambda i, b: i.published_at,
        required=True,
    ),
    Column(
        "updated_at",
        "datetime",
        "Date et heure de dernière modification.",
        "2026-11-22T10:00:00+01:00",
        lambda i, b: i.updated_at,
        required=True,
    ),
]

COLLECTIVITY_COLUMNS = [
    Column(
        "code",
        "string",
        "Code INSEE (commune) ou SIREN (intercommunalité).",
        "13056",
        lambda c, b: c.code,
        required=True,
        extra={"constraints": {"required": True, "unique": True}},
    ),
    Column("siren", "string", "SIREN.", "211300561", lambda c, b: c.siren),
    Column(
        "name",
        "string",
        "Nom officiel.",
        "Martigues",
        lambda c, b: c.name,
        required=True,
    ),
    Column(
        "kind",
        "string",
        "Nature : commune, cc, ca, cu, metropole.",
        "commune",
        lambda c, b: c.kind,
        required=True,
    ),
    Column(
        "department_code",
        "string",
        "Code INSEE du département.",
        "13",
        lambda c, b: c.department.code,
        required=True,
    ),
    Column(
        "department_name",
        "string",
        "Nom du département.",
        "Bouches-du-Rhône",
        lambda c, b: c.department.name,
        required=True,
    ),
    Column(
        "region_code",
        "string",
        "Code INSEE de la région.",
        "93",
        lambda c, b: c.department.region.code,
        required=True,
    ),
    Column(
        "region_name",
        "string",
        "Nom de la région.",
        "Provence-Alpes-Côte d'Azur",
        lambda c, b: c.department.region.name,
        required=True,
    ),
    Column(
        "population",
        "integer",
        "Population (INSEE).",
        "48298",
        lambda c, b: c.population,
    ),
    Column(
        "label_level",
        "integer",
        "Label Villes Internet : nombre de « @ » (0 à 5).",
        "4",
        lambda c, b: c.label_level,
        extra={"constraints": {"required": False, "minimum": 0, "maximum": 5}},
    ),
    Column(
        "label_year", "integer", "Année du label.", "2021", lambda c, b: c.label_year
    ),
    Column(
        "initiative_count",
        "integer",
        "Nombre d'initiatives publiées.",
        "6",
        lambda c, b: c.initiative_count,
        required=True,
    ),
    Column(
        "page_url",
        "string",
        "Adresse de la page sur le portail.",
        "https://exemple.fr/collectivites/martigues-13/",
        lambda c, b: b + c.get_absolute_url(),
        required=True,
        extra={"format": "uri"},
    ),
]


def rows(
    objects: Iterable[Any],
    columns: list[Column],
    base_url: str,
    cell: Callable[[Any], Any],
) -> Iterator[list[Any]]:
    """Turn objects into rows of cells, one per column."""
    for obj in objects:
        yield [cell(column.value(obj, base_url)) for column in columns]
