"""A GIN index on each published initiative's facet tokens (migration 0006), so
that the counts of a selection of two facets or more, or of a search, are
tallied from the initiatives the index finds, without joining the
collectivities, departments and link tables. Nothing on SQLite."""

from django.db import migrations

FORWARD = """
CREATE INDEX initiatives_facet_tokens_gin
  ON initiatives_facet_tokens USING gin (tokens);
"""

BACKWARD = "DROP INDEX IF EXISTS initiatives_facet_tokens_gin;"


def run(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return operation


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0007_list_order_indexes")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
