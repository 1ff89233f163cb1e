"""Statistics of the catalogue for the survey results page: computed from the
published initiatives at request time, unlike the survey's declared totals and
the key figures, which are dated snapshots."""

from dataclasses import dataclass

from django.db.models import Count, Q

from initiatives.filters import LABEL_CHOICES
from initiatives.models import (
    Category,
    Collectivity,
    Department,
    Initiative,
    Region,
    Theme,
)

from .models import Survey

# SVG geometry of a bar chart, in viewBox units.
ROW_HEIGHT = 28
LABEL_WIDTH = 260
BAR_WIDTH = 300
CHART_WIDTH = LABEL_WIDTH + BAR_WIDTH + 60


@dataclass
class Bar:
    label: str
    value: int
    url: str = ""


@dataclass
class Chart:
    slug: str
    title: str
    bars: list[Bar]
    unit: str = "initiatives"

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)

    @property
    def maximum(self) -> int:
        return max((bar.value for bar in self.bars), default=0)

    def rows(self) -> list[dict]:
        """Place each bar in the chart's SVG coordinates."""
        scale = self.maximum or 1
        return [
            {
                "bar": bar,
                "y": index * ROW_HEIGHT,
                "text_y": index * ROW_HEIGHT + 19,
                "width": round(BAR_WIDTH * bar.value / scale),
                "value_x": LABEL_WIDTH + round(BAR_WIDTH * bar.value / scale) + 6,
            }
            for index, bar in enumerate(self.bars)
        ]

    @property
    def height(self) -> int:
        return max(len(self.bars), 1) * ROW_HEIGHT

    @property
    def summary(self) -> str:
        """Say in a sentence what the chart shows, for those who don't see it."""
        if not self.bars or not self.maximum:
            return "Aucune initiative publiée."
        top = max(self.bars, key=lambda bar: bar.value)
        share = round(100 * top.value / self.total) if self.total else 0
        return (
            f"{len(self.bars)} valeurs. La plus fréquente : {top.label}, avec "
            f"{top.value} initiative{'s' if top.value > 1 else ''} ({share} %)."
        )


def catalogue_url(name: str, value: str) -> str:
    return f"/initiatives/?{name}={value}"


def distribution(path: str, labels: dict[str, str], facet: str, order=None) -> list:
    """Count published initiatives per value of `path` (one query)."""
    rows = (
        Initiative.objects.published()
        .order_by()
        .values_list(path)
        .annotate(count=Count("pk", distinct=True))
    )
    counts = {str(key): count for key, count in rows}
    keys = order if order is not None else sorted(counts, key=lambda k: -counts[k])
    return [
        Bar(
            labels.get(key, key),
            counts.get(key, 0),
            catalogue_url(facet, key) if key != "None" else "",
        )
        for key in keys
        if order is not None or counts.get(key)
    ]


def charts() -> list[Chart]:
    """Build the distribution charts of the published initiatives: category,
    theme, region, department, kind of collectivity, label. Costs two queries
    per chart."""
    categories = dict(Category.objects.values_list("slug", "name"))
    themes = dict(Theme.objects.values_list("slug", "name"))
    regions = dict(Region.objects.values_list("code", "name"))
    departments = {
        code: f"{name} ({code})"
        for code, name in Department.objects.values_list("code", "name")
    }
    kinds = {str(value): str(label) for value, label in Collectivity.Kind.choices}
    labels = dict(LABEL_CHOICES)
    labels["None"] = "sans label renseigné"
    return [
        Chart(
            "categorie",
            "Initiatives par catégorie de l'enquête",
            distribution("category__slug", categories, "category", list(categories)),
        ),
        Chart(
            "theme",
            "Initiatives par thème",
            distribution("themes__slug", themes, "theme", list(themes)),
        ),
        Chart(
            "region",
            "Initiatives par région",
            distribution("collectivity__department__region__code", regions, "region"),
        ),
        Chart(
            "departement",
            "Initiatives par département",
            distribution("collectivity__department__code", departments, "department"),
        ),
        Chart(
            "type",
            "Initiatives par type de collectivité",
            distribution("collectivity__kind", kinds, "kind"),
        ),
        Chart(
            "label",
            "Initiatives par label Villes Internet de la collectivité",
            distribution("collectivity__label_level", labels, "label"),
        ),
    ]


def catalogued_totals(survey: Survey) -> dict[str, int]:
    """Count what the portal catalogues for a survey, to set beside what the
    survey declared: initiatives, towns and intercommunalities (one query)."""
    commune = Q(collectivity__kind=Collectivity.Kind.COMMUNE)
    return (
        Initiative.objects.published()
        .filter(survey=survey)
        .aggregate(
            initiatives=Count("pk"),
            towns=Count("collectivity", filter=commune, distinct=True),
            intercommunalities=Count("collectivity", filter=~commune, distinct=True),
        )
    )
