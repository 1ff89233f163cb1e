"""The filter form's facets: each facet's label (its legend) and the values
that have results or are selected, with their counts."""

from dataclasses import dataclass
from typing import TypedDict

from .counts import Counts
from .registry import FACETS


class FacetOption(TypedDict):
    """One value of a facet in the filter form. A dict rather than an object:
    the template engine tries a key before an attribute, and a facet lists up
    to a hundred values (the departments), each read four times."""

    value: str
    label: str
    count: int
    is_selected: bool


@dataclass
class FacetOptions:
    name: str
    label: str
    options: list[FacetOption]


def facet_options(filterset, counts: Counts) -> list[FacetOptions]:
    """Describe each facet for the filter form, in the registry's order."""
    described = []
    for facet in FACETS:
        raw = counts.of(facet.key)
        chosen = set(filterset.chosen(facet.key))
        options = [
            FacetOption(
                value=value,
                label=label,
                count=raw.get(key, 0),
                is_selected=key in chosen,
            )
            for key, value, label in filterset.choices(facet.key)
            if raw.get(key) or key in chosen
        ]
        described.append(FacetOptions(facet.key, facet.label, options))
    return described


def by_value(filterset, counts: Counts, name: str) -> dict[str, int]:
    """One facet's counts keyed by the values URLs use (codes, slugs)."""
    raw = counts.of(name)
    return {
        value: raw[key] for key, value, _ in filterset.choices(name) if raw.get(key)
    }
