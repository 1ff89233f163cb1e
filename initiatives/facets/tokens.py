"""The PostgreSQL side of the facets, generated from the registry.

Each published initiative holds a set of tokens, `*` and one `key:raw key` per
facet value it has (`department:12`, `theme:3`, `featured:1`), in
`initiatives_facet_tokens`; `initiatives_facet_pair` counts every pair of
tokens (migration 0006 made both, and the functions that count them; 0012 made
them exact under concurrency and out-of-order loads).

This module writes what depends on the facets, from FACETS alone:

- `initiatives_current_tokens(ids)`: the tokens of the given initiatives, read
  from the tables their paths reach (`collectivity`, `department`…) and the
  many-to-many link tables;
- `initiatives_lock_facets(ids)`: the rows those tokens read, locked before
  they are read (0012 says why);
- one UPDATE trigger function per table the paths reach, watching exactly the
  columns the tokens read (and the keys joining the next table);
- the triggers: the initiatives', the reached tables', the link tables'.

`python manage.py facet_migration` writes a migration installing them; a test
compares what the database runs with what this module writes today, so a
changed registry without its migration fails.
"""

from dataclasses import dataclass

from django.db import models

from ..models import Initiative
from .registry import FACETS, Facet

INITIATIVE = "initiative"  # the alias of the initiatives' table
TABLE = Initiative._meta.db_table
PREFIX = "initiatives_facets_"  # of every trigger this module writes


@dataclass(frozen=True)
class Reached:
    """A table a facet's path reaches through foreign keys: its alias, the
    alias it is joined from and the key joining it."""

    model: type[models.Model]
    parent: str
    key: str  # the parent's foreign key column
    nullable: bool = False

    @property
    def alias(self) -> str:
        return self.model._meta.model_name

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def join(self) -> str:
        kind = "LEFT JOIN" if self.nullable else "JOIN"
        on = f"{self.alias}.id = {self.parent}.{self.key}"
        return f"{kind} {self.table} {self.alias} ON {on}"


def value_facets() -> list[Facet]:
    return [facet for facet in FACETS if not facet.link]


def reached() -> list[Reached]:
    """The tables the facets' paths reach, each once, parents first."""
    tables = {}
    for facet in value_facets():
        parent = INITIATIVE
        for field in facet.fields[:-1]:
            step = Reached(field.related_model, parent, field.column, field.null)
            tables.setdefault(step.alias, step)
            parent = step.alias
    return list(tables.values())


def path_to(alias: str) -> list[Reached]:
    """The joins from the initiatives to the table of `alias`, in order."""
    steps = {step.alias: step for step in reached()}
    chain = []
    while alias != INITIATIVE:
        step = steps[alias]
        chain.insert(0, step)
        alias = step.parent
    return chain


def column(facet: Facet) -> tuple[str, models.Field]:
    """Where a facet's raw key is ("collectivity.department_id"), and its field."""
    last = facet.fields[-1]
    alias = INITIATIVE if last.model is Initiative else last.model._meta.model_name
    return f"{alias}.{last.column}", last


def facet_tokens(facet: Facet) -> str:
    """The SQL array of one initiative's tokens of one facet."""
    if facet.link:
        through = facet.through._meta
        source = facet.link.m2m_column_name()
        target = facet.link.m2m_reverse_name()
        # In order: the same links always give the same array, so the count
        # at commit (0012's settle) does not take them for changed tokens.
        return (
            f"ARRAY(SELECT '{facet.key}:' || l.{target} FROM {through.db_table} l "
            f"WHERE l.{source} = {INITIATIVE}.id ORDER BY l.{target})"
        )
    value, field = column(facet)
    if isinstance(field, models.BooleanField):
        return f"CASE WHEN {value} THEN ARRAY['{facet.key}:1'] ELSE '{{}}'::text[] END"
    if may_be_null(field):
        return (
            f"CASE WHEN {value} IS NULL THEN '{{}}'::text[] "
            f"ELSE ARRAY['{facet.key}:' || {value}] END"
        )
    return f"ARRAY['{facet.key}:' || {value}]"


def may_be_null(field: models.Field) -> bool:
    """A generated column is as nullable as its output field says."""
    output = getattr(field, "output_field", None) if field.generated else None
    return field.null or bool(output and output.null)


def joins() -> str:
    return "\n  ".join(step.join() for step in reached())


def token_function() -> str:
    arrays = "\n    || ".join(facet_tokens(facet) for facet in FACETS)
    return f"""
  SELECT {INITIATIVE}.id,
    ARRAY['*']
    || {arrays}
  FROM {TABLE} {INITIATIVE}
  {joins()}
  WHERE {INITIATIVE}.id = ANY(ids) AND {INITIATIVE}.status = 'published'
"""


def lock_function() -> str:
    statements = [f"PERFORM 1 FROM {TABLE} WHERE id = ANY(ids) ORDER BY id FOR UPDATE;"]
    for step in reached():
        chain = "".join(f"\n               {s.join()}" for s in path_to(step.parent))
        statements.append(
            f"PERFORM 1 FROM {step.table}\n"
            f"  WHERE id IN (SELECT {step.parent}.{step.key} "
            f"FROM unnest(ids) AS touched (id)\n"
            f"               JOIN {TABLE} {INITIATIVE} USING (id){chain}\n"
            f"               WHERE {INITIATIVE}.status = 'published')\n"
            f"  ORDER BY id FOR SHARE;"
        )
    body = "\n  ".join(statements)
    return f"""
BEGIN
  -- Two transactions refreshing one initiative take turns; a change of a row
  -- the tokens read waits for this transaction, or this one for it (then the
  -- next statement reads it committed). Joined to unnest(ids): a plan
  -- filtering by `= ANY(ids)` would read the whole array for each row.
  {body}
END
"""


def watched(alias: str) -> list[str]:
    """The columns of a table the tokens read: its facets' values, the keys
    to the tables reached from it, and an initiative's status."""
    columns = ["status"] if alias == INITIATIVE else []
    for facet in value_facets():
        value, _ = column(facet)
        table, name = value.split(".")
        if table == alias and name not in columns:
            columns.append(name)
    for step in reached():
        if step.parent == alias and step.key not in columns:
            columns.append(step.key)
    return columns


def compared(columns: list[str]) -> str:
    new = ", ".join(f"n.{name}" for name in columns)
    old = ", ".join(f"o.{name}" for name in columns)
    return f"({new}) IS DISTINCT FROM ({old})"


def initiatives_updated() -> str:
    return f"""
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE {compared(watched(INITIATIVE))}));
  RETURN NULL;
END
"""


def reached_updated(step: Reached) -> str:
    chain = "".join(f"\n    {s.join()}" for s in path_to(step.parent))
    return f"""
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(
    SELECT {INITIATIVE}.id FROM {TABLE} {INITIATIVE}{chain}
    JOIN new_rows n ON n.id = {step.parent}.{step.key}
    JOIN old_rows o ON o.id = n.id
    WHERE {compared(watched(step.alias))}));
  RETURN NULL;
END
"""


@dataclass(frozen=True)
class Function:
    name: str
    arguments: str
    returns: str
    language: str
    body: str
    options: str = ""

    def sql(self) -> str:
        return (
            f"CREATE OR REPLACE FUNCTION {self.name}({self.arguments}) "
            f"RETURNS {self.returns} AS $${self.body}$$ LANGUAGE {self.language}"
            f"{self.options};"
        )


def functions() -> list[Function]:
    """The functions the registry decides, as they must be installed."""
    made = [
        Function(
            "initiatives_current_tokens",
            "ids bigint[]",
            "TABLE (initiative_id bigint, tokens text[])",
            "sql",
            token_function(),
            " STABLE",
        ),
        Function(
            "initiatives_lock_facets",
            "ids bigint[]",
            "void",
            "plpgsql",
            lock_function(),
            " SET plan_cache_mode = force_generic_plan",
        ),
        Function(f"{PREFIX}updated", "", "trigger", "plpgsql", initiatives_updated()),
    ]
    for step in reached():
        made.append(
            Function(
                f"{PREFIX}{step.alias}_updated",
                "",
                "trigger",
                "plpgsql",
                reached_updated(step),
            )
        )
    return made


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    sql: str


def statement_trigger(name, table, event, function, transitions=""):
    return Trigger(
        name,
        table,
        f"CREATE TRIGGER {name} AFTER {event} ON {table}{transitions}\n"
        f"  FOR EACH STATEMENT EXECUTE FUNCTION {function}();",
    )


NEW = " REFERENCING NEW TABLE AS new_rows"
OLD = " REFERENCING OLD TABLE AS old_rows"
BOTH = " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"


def triggers() -> list[Trigger]:
    """Every trigger of the facet counts, as it must be installed."""
    made = [
        statement_trigger(
            f"{PREFIX}inserted", TABLE, "INSERT", f"{PREFIX}inserted", NEW
        ),
        statement_trigger(f"{PREFIX}deleted", TABLE, "DELETE", f"{PREFIX}deleted", OLD),
        statement_trigger(
            f"{PREFIX}updated", TABLE, "UPDATE", f"{PREFIX}updated", BOTH
        ),
        statement_trigger(
            f"{PREFIX}truncated", TABLE, "TRUNCATE", f"{PREFIX}truncated"
        ),
        Trigger(
            f"{PREFIX}settle",
            "initiatives_facet_dirty",
            f"CREATE CONSTRAINT TRIGGER {PREFIX}settle\n"
            "  AFTER INSERT ON initiatives_facet_dirty\n"
            "  DEFERRABLE INITIALLY DEFERRED\n"
            f"  FOR EACH ROW EXECUTE FUNCTION {PREFIX}settle();",
        ),
    ]
    for step in reached():
        name = f"{PREFIX}{step.alias}_updated"
        made.append(statement_trigger(name, step.table, "UPDATE", name, BOTH))
    for facet in FACETS:
        if facet.link:
            table = facet.through._meta.db_table
            for event, function, transitions in (
                ("INSERT", "links_inserted", NEW),
                ("DELETE", "links_deleted", OLD),
                ("UPDATE", "links_updated", BOTH),
            ):
                name = f"{PREFIX}{facet.key}_{function.split('_')[1]}"
                made.append(
                    statement_trigger(
                        name, table, event, f"{PREFIX}{function}", transitions
                    )
                )
    return made


# Drop every trigger of the facet counts, and the per-table trigger functions
# no longer generated, before installing the current ones.
CLEAR = """
DO $$
DECLARE
  found record;
BEGIN
  FOR found IN
    SELECT tgname, tgrelid::regclass AS relation FROM pg_trigger
    WHERE tgname LIKE 'initiatives\\_facets\\_%' AND NOT tgisinternal
  LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', found.tgname, found.relation);
  END LOOP;
  FOR found IN
    SELECT oid::regprocedure AS signature FROM pg_proc
    WHERE proname LIKE 'initiatives\\_facets\\_%\\_updated'
      AND proname <> ALL(%(kept)s)
  LOOP
    EXECUTE format('DROP FUNCTION %s', found.signature);
  END LOOP;
END $$;
"""
# The functions of 0006 and 0012 that do not depend on the facets.
GENERIC = ["initiatives_facets_updated", "initiatives_facets_links_updated"]


def installation() -> str:
    """The SQL installing what the registry decides, then counting again."""
    kept = [function.name for function in functions()] + GENERIC
    array = "ARRAY[" + ", ".join(f"'{name}'" for name in sorted(set(kept))) + "]"
    parts = [CLEAR.replace("%(kept)s", array)]
    parts += [function.sql() for function in functions()]
    parts += [trigger.sql for trigger in triggers()]
    parts.append("SELECT initiatives_rebuild_facets();")
    return "\n\n".join(part.strip() for part in parts) + "\n"
