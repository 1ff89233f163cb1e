"""Links to the catalogue for a selection: without one of its filters, to its
feed or exports, or to one facet value (the survey's charts)."""

from django.http import QueryDict
from django.urls import reverse

from .registry import FACETS


def with_query(route: str, data: QueryDict) -> str:
    query = data.urlencode()
    return reverse(route) + (f"?{query}" if query else "")


def url_without(data: QueryDict, name: str, value: str | None = None) -> str:
    """The list's URL for this selection without one value (or all values) of
    one parameter, back to page one."""
    data = data.copy()
    data.pop("page", None)
    data.setlist(
        name, [v for v in data.getlist(name) if value is not None and v != value]
    )
    return with_query("initiatives:list", data)


def export_url(data: QueryDict, route: str, drop=("page",)) -> str:
    """The URL of `route` (feed, CSV) for exactly this selection."""
    data = data.copy()
    for name in drop:
        data.pop(name, None)
    return with_query(route, data)


def feed_url(data: QueryDict) -> str:
    return export_url(data, "initiatives:feed", drop=("page", "sort"))


def value_url(facet: str, value: str) -> str:
    """The list filtered on one value of one facet."""
    data = QueryDict(mutable=True)
    data[FACETS[facet].key] = value
    return with_query("initiatives:list", data)


def active_filters(data: QueryDict, facets) -> list[dict[str, str]]:
    """List the active filters of a selection (its search, its chosen values
    among `facets`, as options.py builds them), each with the URL removing it."""
    active = []
    query = data.get("q", "").strip()
    if query:
        active.append(
            {
                "facet": "Recherche",
                "label": f"« {query[:60]} »",
                "url": url_without(data, "q"),
            }
        )
    for facet in facets:
        for option in facet.options:
            if option["is_selected"]:
                active.append(
                    {
                        "facet": facet.label,
                        "label": option["label"],
                        "url": url_without(data, facet.name, option["value"]),
                    }
                )
    return active
