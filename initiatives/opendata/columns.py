"""The open-data files' column catalogue: one description of each column drives
the CSV, the JSON download, the Table Schema and its README, so they cannot
drift apart; and how each type of cell is written."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import TextChoices
from django.urls import reverse

from ..models import Collectivity, Initiative

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
    # Table Schema constraints beyond "required" ("unique", "pattern"…).
    constraints: dict[str, Any] = field(default_factory=dict)
    # The model's choices that hold the column's values: the schema's "enum",
    # and the description lists them with their French labels.
    choices: type[TextChoices] | None = None
    format: str | None = None  # Table Schema's, e.g. "uri"
    # Given the site's base URL, make the function that turns the source value
    # into the cell: called once per download, not once per row.
    prepare: Callable[[str], Callable[[Any], Any]] | None = None

    def schema(self) -> dict[str, Any]:
        """Describe the column as a Table Schema field."""
        description = self.description
        constraints = {"required": self.required, **self.constraints}
        if self.choices:
            values = (
                value if label == value else f"{value} « {label} »"
                for value, label in self.choices.choices
            )
            description += " : " + ", ".join(values) + "."
            constraints["enum"] = self.choices.values
        described = {
            "name": self.name,
            "type": self.type,
            "description": description,
            "example": self.example,
            "constraints": constraints,
        }
        if self.type == "list":
            described.update(delimiter=LIST_SEPARATOR, itemType="string")
        if self.format:
            described["format"] = self.format
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


def place_columns(department: str, examples: tuple[str, ...]) -> list[Column]:
    """The department and region columns of rows whose department is the
    relation `department`; `examples` are their four example cells."""
    code, name, region_code, region_name = examples
    region = f"{department}__region"
    return [
        Column(
            "department_code",
            "string",
            "Code INSEE du département.",
            code,
            f"{department}__code",
            required=True,
        ),
        Column(
            "department_name",
            "string",
            "Nom du département.",
            name,
            f"{department}__name",
            required=True,
        ),
        Column(
            "region_code",
            "string",
            "Code INSEE de la région.",
            region_code,
            f"{region}__code",
            required=True,
        ),
        Column(
            "region_name",
            "string",
            "Nom de la région.",
            region_name,
            f"{region}__name",
            required=True,
        ),
    ]


INITIATIVE_COLUMNS = [
    Column(
        "slug",
        "string",
        "Identifiant stable de l'initiative, dans son adresse.",
        "beauvais-marche-primeurs-en-ligne",
        "slug",
        required=True,
        constraints={"unique": True, "pattern": "^[-a-z0-9_]+$"},
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
        format="uri",
    ),
    Column(
        "collectivity_code",
        "string",
        "Code officiel de la collectivité : code INSEE (5 caractères) pour une "
        "commune, SIREN (9 chiffres) pour une intercommunalité.",
        "60057",
        "collectivity__code",
        required=True,
        constraints={"pattern": "^([0-9]{2}|2A|2B)[0-9]{3}$|^[0-9]{9}$"},
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
        "Nature de la collectivité",
        Collectivity.Kind.COMMUNE,
        "collectivity__kind",
        required=True,
        choices=Collectivity.Kind,
    ),
    *place_columns("collectivity__department", ("60", "Oise", "32", "Hauts-de-France")),
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
        "Phase de la crise",
        Initiative.Period.FIRST_LOCKDOWN,
        "period",
        required=True,
        choices=Initiative.Period,
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
        "Ce qu'il en est advenu",
        Initiative.Outcome.UNKNOWN,
        "outcome",
        required=True,
        choices=Initiative.Outcome,
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
        format="uri",
        prepare=image_url,
    ),
    Column("image_alt", "string", "Texte alternatif de l'image.", "", "image_alt"),
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
        required=True,
        format="uri",
        prepare=page_url("initiatives:detail"),
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
        constraints={"unique": True},
    ),
    Column("siren", "string", "SIREN.", "211300561", "siren"),
    Column("name", "string", "Nom officiel.", "Martigues", "name", required=True),
    Column(
        "kind",
        "string",
        "Nature",
        Collectivity.Kind.COMMUNE,
        "kind",
        required=True,
        choices=Collectivity.Kind,
    ),
    *place_columns(
        "department", ("13", "Bouches-du-Rhône", "93", "Provence-Alpes-Côte d'Azur")
    ),
    Column("population", "integer", "Population (INSEE).", "48298", "population"),
    Column(
        "label_level",
        "integer",
        "Label Villes Internet : nombre de « @ » (0 à 5).",
        "4",
        "label_level",
        constraints={"minimum": 0, "maximum": 5},
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
        required=True,
        format="uri",
        prepare=page_url("initiatives:collectivity_detail"),
    ),
]
