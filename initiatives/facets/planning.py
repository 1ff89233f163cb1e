"""How PostgreSQL finds the initiatives of a facet selection, from their tokens
(`initiatives_facet_tokens`, kept by tokens.py's triggers, GIN-indexed).

A selection's size and the catalogue's, once counted (counts.py), are passed to
`sized()`, which plans the selection's condition with them: a narrow selection
is found by the GIN index, a wide one of a page sorted as an index is walked in
that index. Without sizes, the planner decides. Same rows whatever the plan,
and the same rows as the facets' own ORM conditions, which SQLite runs.
"""

import copy
from dataclasses import dataclass

from django.db.models import BooleanField, F, Func

from ..models import Initiative

TOKEN_TABLE = "initiatives_facet_tokens"  # noqa: S105 (a table, not a secret)
# Without the catalogue's size, a selection of at most this many initiatives is
# found by the tokens' GIN index first (then sorted), a wider one left to the
# planner.
NARROW = 5000


@dataclass(frozen=True)
class Sizes:
    """The selection's size and the catalogue's (published initiatives), each
    None when not counted."""

    selection: int | None = None
    catalogue: int | None = None


def token_condition(chosen: dict[str, list[str]]) -> tuple[str, list]:
    """The SQL condition on `t.tokens` keeping the initiatives having, for each
    facet of `chosen` (raw keys), one of its tokens (TRUE when none is chosen);
    and its parameters."""
    conditions, params = [], []
    for name, keys in chosen.items():
        conditions.append("t.tokens && %s::text[]")
        params.append([f"{name}:{key}" for key in keys])
    return " AND ".join(conditions) or "TRUE", params


def walks_an_index(query) -> bool:
    """Tell whether `query` is sorted as one of the published initiatives' list
    indexes reads them (status, then the sort: Initiative.Meta.indexes)."""
    order = [{"pk": "id", "-pk": "-id"}.get(f, f) for f in query.order_by]
    return bool(order) and any(
        index.fields[0] == "status" and index.fields[1 : len(order) + 1] == order
        for index in Initiative._meta.indexes
    )


def plan(sizes: Sizes, depth: int | None, walkable: bool) -> str:
    """Choose how HavingTokens finds a selection: "walk", "find" or "planner".
    `depth` is the query's LIMIT end (None: every row) and `walkable` whether
    its order is an index's. Walking the sort's index costs about depth ×
    catalogue ÷ selection probes (the selection spread evenly along the sort),
    finding costs one lookup per initiative of the selection, and a probe costs
    about what a lookup does (2 to 3 µs, measured at 100 000 and 1 000 000)."""
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
    `chosen` (raw keys), one of its tokens, planned with `sizes` (see plan): a
    page of a wide selection sorted as an index walks that index, checking each
    initiative's tokens by primary key (a subquery the planner cannot turn into
    a join, which would read the whole selection); a narrow selection is looked
    up as `id = ANY(ARRAY(…))`, found with the GIN index; otherwise one EXISTS
    that the planner answers as it sees fit."""

    output_field = BooleanField()

    def __init__(self, chosen: dict[str, list[str]], sizes: Sizes = Sizes()):
        super().__init__(F("pk"))
        self.chosen, self.sizes = chosen, sizes

    def as_sql(self, compiler, connection, **extra_context):
        pk, pk_params = compiler.compile(self.source_expressions[0])
        where, params = token_condition(self.chosen)
        query = compiler.query
        how = plan(self.sizes, query.high_mark, walks_an_index(query))
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


def sized(queryset, sizes: Sizes):
    """The same queryset, its token condition planned with `sizes`."""
    clone = queryset.all()
    clone.query.where = _resized(clone.query.where, sizes)
    return clone


def _resized(node, sizes):
    """A copy of a where node with its HavingTokens planned with `sizes`:
    Django wraps a boolean expression in a lookup (`… = true`)."""
    if isinstance(node, HavingTokens):
        resized = copy.copy(node)
        resized.sizes = sizes
        return resized
    if isinstance(getattr(node, "lhs", None), HavingTokens):
        lookup = copy.copy(node)
        lookup.lhs = _resized(node.lhs, sizes)
        return lookup
    children = getattr(node, "children", None)
    if children is None:
        return node
    where = node.clone()
    where.children = [_resized(child, sizes) for child in children]
    return where
