"""Facet counts: for each value of each facet, the number of published
initiatives that ticking it would give (the other facets' filters apply, its
own does not), and the selection's total. Computed from a valid
InitiativeFilter, with no state left on it.

Two ways, one answer (tests compare them after every kind of change):

- PostgreSQL: `initiatives_facet_pair` holds the count of every pair of tokens
  (tokens.py's triggers keep it): the unfiltered catalogue and a selection
  within a single facet read their counts there, in one small query whatever
  the catalogue's size. Otherwise (a search, two facets or more), one query
  tallies the tokens of the initiatives the tokens' GIN index finds, within
  the search's when there is one.
- SQLite: one query, a UNION ALL of a GROUP BY per facet over the filtered
  initiatives.

Counts are keyed by raw key (registry.py).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections
from django.db.models import CharField, Count, QuerySet, Value
from django.db.models.functions import Cast

from .planning import TOKEN_TABLE, Sizes, token_condition
from .registry import FACETS, raw_key

TOTAL = "*"
PAIR_TABLE = "initiatives_facet_pair"
# The number of published initiatives, kept by the pair table's triggers.
CATALOGUE_SQL = f"SELECT count FROM {PAIR_TABLE} WHERE a = '*' AND b = '*'"  # noqa: S608


@dataclass(frozen=True)
class Counts:
    """Each facet's counts by raw key, the selection's total, and the sizes
    the selection's query is planned with (planning.sized)."""

    values: dict[str, dict[str, int]] = field(default_factory=dict)
    total: int = 0
    sizes: Sizes = Sizes()

    def of(self, facet: str) -> dict[str, int]:
        return self.values.get(facet, {})


def count(filterset) -> Counts:
    """Count every facet's values and the total of a valid filterset's
    selection. SQLite: one query. PostgreSQL: at most two, the counts whose
    selection has at most one facet and no search read from the pair table
    (with the catalogue's size), the others tallied from the tokens, once per
    distinct selection."""
    filterset.is_valid()
    using = filterset.queryset.db
    names = FACETS.keys()
    if connections[using].vendor != "postgresql":
        counts = computed(filterset.filtered_without, names)
        return Counts(without_total(counts), counts[TOTAL])
    chosen = filterset.chosen_facets()
    searching = filterset.is_searching()
    # A facet's own counts ignore its choice: group the counts by the
    # selection they are restricted to.
    groups = {}
    for target in (*names, TOTAL):
        kept = {name: keys for name, keys in chosen.items() if name != target}
        key = tuple(sorted((name, tuple(keys)) for name, keys in kept.items()))
        groups.setdefault(key, (kept, []))[1].append(target)
    reads, tallies = [], []
    for kept, targets in groups.values():
        if not searching and readable(using, kept):
            reads.append((kept, targets))
        else:
            tallies.append((kept, targets))
    if not searching:  # the catalogue's size, to plan the selection's query
        reads.append(({}, [TOTAL]))
    answers = read(using, reads) if reads else []
    catalogue = answers.pop()[TOTAL] if not searching else None
    within = filterset.searched() if searching else None
    counts = {}
    for answer in answers + (tally(using, tallies, within) if tallies else []):
        counts.update(answer)
    sizes = Sizes() if searching else Sizes(counts[TOTAL], catalogue)
    return Counts(without_total(counts), counts[TOTAL], sizes)


def selection_sizes(filterset) -> Sizes | None:
    """The size of a valid filterset's selection without a search, and the
    catalogue's, on PostgreSQL: read from the pair table when it gives them,
    else counted from the tokens (one small query either way). None
    otherwise: counting is then the caller's."""
    filterset.is_valid()
    using = filterset.queryset.db
    if filterset.is_searching() or connections[using].vendor != "postgresql":
        return None
    chosen = filterset.chosen_facets()
    if readable(using, chosen):
        selection, catalogue = read(using, [(chosen, [TOTAL]), ({}, [TOTAL])])
        return Sizes(selection[TOTAL], catalogue[TOTAL])
    return counted(using, chosen)


def without_total(counts: dict) -> dict[str, dict[str, int]]:
    return {name: keys for name, keys in counts.items() if name != TOTAL}


def computed(selection: Callable[[str | None], QuerySet], names: list[str]) -> dict:
    """Count in one query: `selection(name)` gives the published initiatives
    filtered by everything but facet `name` (None: by everything)."""
    parts = []
    for name in names:
        facet = FACETS[name]
        initiatives = selection(name).order_by()
        if facet.link:
            rows = facet.through.objects.filter(initiative__in=initiatives.values("pk"))
        else:
            rows = initiatives
        parts.append(
            rows.annotate(facet=Value(name), key=Cast(facet.raw_path, CharField()))
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
    # No order: the union's first part may be of a model with a default one.
    union = parts[0].union(*parts[1:], total, all=True).order_by()
    for facet, key, number in union:
        if facet == TOTAL:
            counts[TOTAL] += number
        else:
            key = raw_key(key if key not in ("true", "false") else key == "true")
            if key:
                counts[facet][key] = number
    return counts


def readable(using: str, chosen: dict[str, list[str]]) -> bool:
    """Tell whether the pair table answers counts restricted by `chosen`:
    PostgreSQL, and at most one facet chosen, with a single value if it is a
    many-to-many one (two themes would count their common initiatives twice)."""
    if connections[using].vendor != "postgresql" or len(chosen) > 1:
        return False
    return all(not FACETS[name].link or len(keys) == 1 for name, keys in chosen.items())


def tokens(chosen: dict[str, list[str]]) -> list[str]:
    """The pair table's tokens a restriction reads (`*` when none)."""
    if not chosen:
        return [TOTAL]
    [(name, keys)] = chosen.items()
    return [FACETS[name].token(key) for key in keys]


def empty(targets: list[str]) -> dict:
    return {target: 0 if target == TOTAL else {} for target in targets}


def add(counts: dict, token: str, number: int) -> None:
    """Add `number` to the counter `token` names, if it is one of `counts`'."""
    if token == TOTAL:
        if TOTAL in counts:
            counts[TOTAL] += number
        return
    name, key = token.split(":", 1)
    if name in counts:
        counts[name][key] = counts[name].get(key, 0) + number


def read(using: str, requests: list) -> list[dict]:
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
        for a, b, number in rows:
            if a in wanted:
                add(counts, b, number)
        answers.append(counts)
    return answers


def tally(using: str, requests: list, within: QuerySet | None = None) -> list[dict]:
    """Count on PostgreSQL from the published initiatives' tokens, in one
    query. `requests` lists (restriction, targets): the initiatives having, for
    each facet of the restriction, one of its chosen tokens (the GIN index
    finds them), counted once for all the target facets. `within`, a queryset
    (a search), further keeps the initiatives it holds: their tokens are read
    once, by primary key (`= ANY(ARRAY(…))`: a hash join would read the whole
    token table), then each restriction filters them."""
    source, params = TOKEN_TABLE, []
    if within is not None:
        subquery, params = within.order_by().values("pk").query.sql_with_params()
        params = list(params)
        source = "found"
    parts = []
    for number, (chosen, _) in enumerate(requests):
        where, values = token_condition(chosen)
        params.extend(values)
        parts.append(
            f"SELECT {number} AS request, token, count(*) "  # noqa: S608 (compiled)
            f"FROM {source} AS t, unnest(t.tokens) AS token "
            f"WHERE {where} GROUP BY token"
        )
    sql = " UNION ALL ".join(parts)
    if within is not None:
        sql = (
            f"WITH found AS MATERIALIZED (SELECT tokens FROM {TOKEN_TABLE} "  # noqa: S608
            f"WHERE initiative_id = ANY(ARRAY({subquery}))) {sql}"
        )
    answers = [empty(targets) for _, targets in requests]
    with connections[using].cursor() as cursor:
        # Built from Django's compiled subquery (its values stay parameters),
        # integers and placeholders only.
        cursor.execute(sql, params)
        for number, token, total in cursor.fetchall():
            add(answers[number], token, total)
    return answers


def counted(using: str, chosen: dict[str, list[str]]) -> Sizes:
    """The number of published initiatives having, for each facet of `chosen`,
    one of its tokens (counted with the tokens' GIN index), and the number of
    published initiatives (read from the pair table), in one query."""
    where, params = token_condition(chosen)
    sql = (
        f"SELECT count(*), ({CATALOGUE_SQL}) "  # noqa: S608 (constants)
        f"FROM {TOKEN_TABLE} AS t WHERE {where}"
    )
    with connections[using].cursor() as cursor:
        # Constants and placeholders only: the tokens are parameters.
        cursor.execute(sql, params)
        return Sizes(*cursor.fetchone())


def published_count(initiatives: QuerySet, facet: str, key: str) -> int:
    """The number of published `initiatives` having one facet value (raw key):
    read from the pair table on PostgreSQL, counted elsewhere."""
    using = initiatives.db
    if readable(using, {facet: [key]}):
        [counts] = read(using, [({facet: [key]}, [TOTAL])])
        return counts[TOTAL]
    return initiatives.count()
