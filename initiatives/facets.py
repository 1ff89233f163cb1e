"""Facet counts of the catalogue: for each value of each facet, the number of
published initiatives that ticking it would give (the other facets' filters
apply, its own does not), and the total of the selection.

Two ways, one answer (a test compares them after every kind of change):

- read: on PostgreSQL, migration 0006 keeps `initiatives_facet_pair` up to
  date with triggers. The unfiltered catalogue and a selection within a single
  facet (the home page, the map, the list, a department or theme link) read
  their counts there, in one small query whatever the catalogue's size;
- tallied: on PostgreSQL otherwise (a search, two facets or more), one query
  counting the tokens of the initiatives found with the tokens' GIN index
  (`initiatives_facet_tokens`, below), and the search's when there is one;
- computed: on SQLite, one query, a UNION ALL of a GROUP BY per facet over the
  filtered initiatives.

Counts are keyed by each value's raw key: the primary key of a theme,
department… (its slug or code may change), or the stored value of a choice.
"""

from dataclasses import dataclass

from django.db import connections
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    F,
    Func,
    OuterRef,
    Value,
)
from django.db.models.functions import Cast

from .models import Initiative

TOTAL = "*"
PAIR_TABLE = "initiatives_facet_pair"
TOKEN_TABLE = "initiatives_facet_tokens"  # noqa: S105 (a table, not a secret)


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


def linked_to(queryset, facet, keys):
    """Keep the initiatives linked to one of `keys` (raw keys) of a
    many-to-many facet, each once: an EXISTS, so the rows need no DISTINCT."""
    source = SOURCES[facet]
    matches = source.through.objects.filter(
        initiative=OuterRef("pk"), **{f"{source.target}__in": keys}
    )
    return queryset.filter(Exists(matches))


def token_condition(chosen):
    """The SQL condition on `t.tokens` keeping the initiatives having, for each
    facet of `chosen` (raw keys), one of its tokens (TRUE when none is chosen);
    and its parameters."""
    conditions, params = [], []
    for name, keys in chosen.items():
        conditions.append("t.tokens && %s::text[]")
        params.append([f"{name}:{key}" for key in keys])
    return " AND ".join(conditions) or "TRUE", params


def counted(using, chosen):
    """The number of published initiatives having, for each facet of `chosen`,
    one of its tokens (counted on PostgreSQL with the tokens' GIN index), and
    the number of published initiatives (read from the pair table), in one
    query: the Sizes HavingTokens plans with."""
    where, params = token_condition(chosen)
    sql = (
        f"SELECT count(*), ({CATALOGUE_SQL}) "  # noqa: S608 (constants)
        f"FROM {TOKEN_TABLE} AS t WHERE {where}"
    )
    with connections[using].cursor() as cursor:
        # Constants and placeholders only: the tokens are parameters.
        cursor.execute(sql, params)
        return Sizes(*cursor.fetchone())


# The number of published initiatives, kept by the pair table's triggers.
CATALOGUE_SQL = f"SELECT count FROM {PAIR_TABLE} WHERE a = '*' AND b = '*'"  # noqa: S608

# Without the catalogue's size, a selection of at most this many initiatives is
# found by the tokens' GIN index first (then sorted), a wider one left to the
# planner.
NARROW = 5000


@dataclass(frozen=True)
class Sizes:
    """What HavingTokens plans with: the selection's size and the catalogue's
    (published initiatives), each None when not counted."""

    selection: int | None = None
    catalogue: int | None = None


def walks_an_index(query):
    """Tell whether `query` is sorted as one of the published initiatives' list
    indexes reads them (status, then the sort: Initiative.Meta.indexes)."""
    order = [{"pk": "id", "-pk": "-id"}.get(f, f) for f in query.order_by]
    return bool(order) and any(
        index.fields[0] == "status" and index.fields[1 : len(order) + 1] == order
        for index in Initiative._meta.indexes
    )


def plan(sizes, depth, walkable):
    """Choose how HavingTokens finds a selection (see there): "walk", "find" or
    "planner". `depth` is the query's LIMIT end (None: every row) and
    `walkable` whether its order is an index's. Walking the sort's index costs
    about depth × catalogue ÷ selection probes (the selection spread evenly
    along the sort), finding costs one lookup per initiative of the selection,
    and a probe costs about what a lookup does (2 to 3 µs, measured at 100 000
    and 1 000 000)."""
    selection, catalogue = sizes.selection, sizes.catalogue
    if selection is None:
        return "planner"
    costed = walkable and depth and catalogue
    if costed and selection * selection > depth * catalogue:
        return "walk"
    if costed or selection <= NARROW:
        return "find"
    return "planner"


class HavingTokens(Func):
    """On PostgreSQL, keep the published initiatives having, for each facet of
    `chosen` (raw keys), one of its tokens. `sizes()` gives the selection's and
    the catalogue's Sizes when they are known by the time the query is
    compiled (the list and the API count first). Then a wide selection of a
    page sorted as an index is walked in that index, each initiative's tokens
    checked by primary key (a subquery the planner cannot turn into a join,
    which would read the whole selection); a narrow one is looked up as `id =
    ANY(ARRAY(…))`, found with the GIN index. Otherwise one EXISTS that the
    planner answers as it sees fit. Same rows as the facets' own filters,
    which SQLite runs."""

    output_field = BooleanField()

    def __init__(self, chosen, sizes=Sizes):
        super().__init__(F("pk"))
        self.chosen, self.sizes = chosen, sizes

    def as_sql(self, compiler, connection, **extra_context):
        pk, pk_params = compiler.compile(self.source_expressions[0])
        where, params = token_condition(self.chosen)
        query = compiler.query
        how = plan(self.sizes(), query.high_mark, walks_an_index(query))
        if how == "find":
            sql = (
                f"{pk} = ANY(ARRAY(SELECT t.initiative_id "  # noqa: S608 (constants)
                f"FROM {TOKEN_TABLE} AS t WHERE {where}))"
            )
            return sql, (*params, *pk_params)
        if how == "walk":
            sql = (
                f"(SELECT {where} FROM {TOKEN_TABLE} AS t "  # noqa: S608 (constants)
                f"WHERE t.initiative_id = {pk})"
            )
            return sql, (*params, *pk_params)
        sql = (
            f"EXISTS (SELECT 1 FROM {TOKEN_TABLE} AS t "  # noqa: S608 (constants)
            f"WHERE t.initiative_id = {pk} AND {where})"
        )
        return sql, (*pk_params, *params)


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


def tally(using, requests, within=None):
    """Count on PostgreSQL from the published initiatives' tokens, in one
    query. `requests` lists (restriction, targets): the initiatives having, for
    each facet of the restriction, one of its chosen tokens (the GIN index of
    migration 0008 finds them), counted once for all the target facets.
    `within`, a queryset (a search), further keeps the initiatives it holds:
    their tokens are read once, by primary key (`= ANY(ARRAY(…))`: a hash join
    would read the whole token table), then each restriction filters them."""
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
