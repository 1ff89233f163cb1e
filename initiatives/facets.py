"""Facet counts of the catalogue: for each value of each facet, the number of
published initiatives that ticking it would give (the other facets' filters
apply, its own does not), and the total of the selection.

Two ways, one answer (a test compares them after every kind of change):

- read: on PostgreSQL, migration 0006 keeps `initiatives_facet_pair` up to
  date with triggers. The unfiltered catalogue and a selection within a single
  facet (the home page, the map, the list, a department or theme link) read
  their counts there, in one small query whatever the catalogue's size;
- computed: otherwise (a search, two facets or more, SQLite), one query, a
  UNION ALL of a GROUP BY per facet over the filtered initiatives.

Counts are keyed by each value's raw key: the primary key of a theme,
department… (its slug or code may change), or the stored value of a choice.
"""

from dataclasses import dataclass

from django.db import connections
from django.db.models import CharField, Count, Exists, OuterRef, Value
from django.db.models.functions import Cast

from .models import Initiative

TOTAL = "*"
PAIR_TABLE = "initiatives_facet_pair"
TOKEN_TABLE = "initiatives_facet_tokens"


@dataclass(frozen=True)
class FacetSource:
    """Where a facet's values live: a path from the initiative, or (for a
    many-to-many facet) the link table's field holding the value."""

    path: str
    link: str = ""  # many-to-many field of Initiative, when the facet is one

    @property
    def through(self):
        return Initiative._meta.get_field(self.link).remote_field.through

    @property
    def target(self):
        """The link table's foreign key to the value (theme, vigilance point)."""
        return self.path.removesuffix("_id")


SOURCES = {
    "theme": FacetSource("theme_id", link="themes"),
    "category": FacetSource("category_id"),
    "region": FacetSource("collectivity__department__region_id"),
    "department": FacetSource("collectivity__department_id"),
    "kind": FacetSource("collectivity__kind"),
    "label": FacetSource("collectivity__label_level"),
    "vigilance": FacetSource("vigilancepoint_id", link="vigilance_points"),
    "period": FacetSource("period"),
    "featured": FacetSource("is_featured"),
}


def linked_to(queryset, link, values):
    """Keep the initiatives linked (many-to-many `link`) to one of `values`,
    each once: an EXISTS, so the rows need no DISTINCT."""
    source = next(s for s in SOURCES.values() if s.link == link)
    matches = source.through.objects.filter(
        initiative=OuterRef("pk"), **{f"{source.target}__in": values}
    )
    return queryset.filter(Exists(matches))


def raw_key(value):
    """Spell a stored value as the counts' key: "1" for True, "12" for 12."""
    if isinstance(value, bool):
        return "1" if value else ""
    return "" if value is None else str(value)


def computed(selection, names):
    """Count in one query: `selection(name)` gives the published initiatives
    filtered by everything but facet `name` (None: by everything)."""
    parts = []
    for name in names:
        source = SOURCES[name]
        initiatives = selection(name).order_by()
        if source.link:
            rows = source.through.objects.filter(
                initiative__in=initiatives.values("pk")
            )
        else:
            rows = initiatives
        parts.append(
            rows.annotate(facet=Value(name), key=Cast(source.path, CharField()))
            .values_list("facet", "key")
            .annotate(count=Count("*"))
            .order_by()
        )
    total = (
        selection(None)
        .order_by()
        .annotate(facet=Value(TOTAL), key=Value(TOTAL))
        .values_list("facet", "key")
        .annotate(count=Count("*"))
    )
    counts = {name: {} for name in names}
    counts[TOTAL] = 0
    for facet, key, count in parts[0].union(*parts[1:], total, all=True):
        if facet == TOTAL:
            counts[TOTAL] += count
        else:
            key = raw_key(key if key not in ("true", "false") else key == "true")
            if key:
                counts[facet][key] = count
    return counts


def readable(using, chosen):
    """Tell whether the pair table answers counts restricted by `chosen`:
    PostgreSQL, and at most one facet chosen, with a single value if it is a
    many-to-many one (two themes would count their common initiatives twice)."""
    if connections[using].vendor != "postgresql" or len(chosen) > 1:
        return False
    return all(
        not SOURCES[name].link or len(keys) == 1 for name, keys in chosen.items()
    )


def tokens(chosen):
    """The pair table's tokens a restriction reads (`*` when none)."""
    if not chosen:
        return [TOTAL]
    [(facet, keys)] = chosen.items()
    return [f"{facet}:{key}" for key in keys]


def empty(targets):
    return {target: 0 if target == TOTAL else {} for target in targets}


def add(counts, token, count):
    """Add `count` to the counter `token` names, if it is one of `counts`'."""
    if token == TOTAL:
        if TOTAL in counts:
            counts[TOTAL] += count
        return
    name, key = token.split(":", 1)
    if name in counts:
        counts[name][key] = counts[name].get(key, 0) + count


def read(using, requests):
    """Read counts from the pair table, in one query. `requests` lists
    (restriction, targets): the counts of the initiatives having the
    restriction's token (one facet chosen, or none), for each target facet (or
    TOTAL). Gives one dict of counts per request."""
    given = sorted({token for chosen, _ in requests for token in tokens(chosen)})
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT a, b, count FROM initiatives_facet_pair "
            "WHERE a = ANY(%s) AND count > 0",
            [given],
        )
        rows = cursor.fetchall()
    answers = []
    for chosen, targets in requests:
        counts, wanted = empty(targets), set(tokens(chosen))
        for a, b, count in rows:
            if a in wanted:
                add(counts, b, count)
        answers.append(counts)
    return answers


def tally(using, requests):
    """Count on PostgreSQL from each published initiative's tokens, in one
    query. `requests` lists (initiatives, targets): the tokens of those
    initiatives (a queryset), counted once for all the target facets."""
    parts, params = [], []
    for number, (initiatives, _) in enumerate(requests):
        subquery, subparams = (
            initiatives.order_by().values("pk").query.sql_with_params()
        )
        parts.append(
            f"SELECT {number} AS request, token, count(*) "  # noqa: S608 (compiled)
            f"FROM {TOKEN_TABLE} AS t, unnest(t.tokens) AS token "
            f"WHERE t.initiative_id IN ({subquery}) GROUP BY token"
        )
        params.extend(subparams)
    answers = [empty(targets) for _, targets in requests]
    with connections[using].cursor() as cursor:
        # Built from Django's compiled subqueries (their values stay parameters)
        # and integers only.
        cursor.execute(" UNION ALL ".join(parts), params)
        for number, token, count in cursor.fetchall():
            add(answers[number], token, count)
    return answers


def published_count(initiatives, facet, key):
    """The number of published `initiatives` having one facet value (raw key):
    read from the pair table on PostgreSQL, counted elsewhere."""
    using = initiatives.db
    if readable(using, {facet: [key]}):
        [counts] = read(using, [({facet: [key]}, [TOTAL])])
        return counts[TOTAL]
    return initiatives.count()
