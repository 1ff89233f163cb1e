"""Statistics of the catalogue for the survey results page: computed from the
published initiatives at request time, unlike the survey's declared totals and
the key figures, which are dated snapshots."""

from dataclasses import dataclass

from django.db.models import Count, Q

from initiatives.facets.links import value_url
from initiatives.facets.registry import FACETS, Facet, Listed, choice_values
from initiatives.models import Collectivity, Initiative

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


def distribution(facet: Facet, ordered: bool = False) -> list[Bar]:
    """Count published initiatives per value of `facet`, each bar linked to
    the catalogue filtered on it: in the facet's order of values, or the most
    frequent first (one query, plus one for a listed facet's values)."""
    rows = (
        Initiative.objects.published()
        .order_by()
        .values_list(facet.url_path)
        .annotate(count=Count("pk", distinct=True))
    )
    counts = {str(key): count for key, count in rows}
    if isinstance(facet.values, Listed):
        values = facet.values.model.objects.values_list(facet.values.field, "pk")
        labels = dict(
            values.annotate(shown=facet.values.label).values_list(
                facet.values.field, "shown"
            )
        )
    else:
        labels = {value: label for _, value, label in choice_values(facet)}
    labels["None"] = UNKNOWN.get(facet.key, "non renseigné")
    keys = list(labels) if ordered else sorted(counts, key=lambda k: -counts[k])
    return [
        Bar(
            labels.get(key, key),
            counts.get(key, 0),
            value_url(facet.key, key) if key != "None" else "",
        )
        for key in keys
        if (ordered and key != "None") or counts.get(key)
    ]


# What a chart calls an initiative whose facet has no value.
UNKNOWN = {"label": "sans label renseigné"}
# The charts: a facet, its title, and whether its bars keep the facet's order.
CHARTS = [
    ("categorie", "category", "Initiatives par catégorie de l'enquête", True),
    ("theme", "theme", "Initiatives par thème", True),
    ("region", "region", "Initiatives par région", False),
    ("departement", "department", "Initiatives par département", False),
    ("type", "kind", "Initiatives par type de collectivité", False),
    (
        "label",
        "label",
        "Initiatives par label Villes Internet de la collectivité",
        False,
    ),
]


def charts() -> list[Chart]:
    """Build the distribution charts of the published initiatives: category,
    theme, region, department, kind of collectivity, label. Costs at most two
    queries per chart."""
    return [
        Chart(slug, title, distribution(FACETS[key], ordered))
        for slug, key, title, ordered in CHARTS
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
