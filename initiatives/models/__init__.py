"""The catalogue's models: the official geography, categories and themes,
and the initiatives."""

from .choices import (
    LABEL_MAX,
    CollectivityKind,
    InitiativeOutcome,
    InitiativePeriod,
    InitiativeStatus,
)
from .geography import (
    BAND_FLOORS,
    Collectivity,
    CollectivityQuerySet,
    Department,
    DepartmentQuerySet,
    PopulationBand,
    Region,
    population_band,
)
from .initiative import LINKS, PRIVATE_HISTORY_FIELDS, Initiative, delete_file_on_commit
from .queries import CARD_FIELDS, InitiativeQuerySet, folded_document, postgres_query
from .themes import Category, Theme, ThemeQuerySet

__all__ = [
    "BAND_FLOORS",
    "CARD_FIELDS",
    "LABEL_MAX",
    "LINKS",
    "PRIVATE_HISTORY_FIELDS",
    "Category",
    "Collectivity",
    "CollectivityKind",
    "CollectivityQuerySet",
    "Department",
    "DepartmentQuerySet",
    "Initiative",
    "InitiativeOutcome",
    "InitiativePeriod",
    "InitiativeQuerySet",
    "InitiativeStatus",
    "PopulationBand",
    "Region",
    "Theme",
    "ThemeQuerySet",
    "delete_file_on_commit",
    "folded_document",
    "population_band",
    "postgres_query",
]
