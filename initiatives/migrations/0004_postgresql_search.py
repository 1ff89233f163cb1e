"""French full-text search on PostgreSQL: unaccent, a French configuration that
folds accents before stemming, triggers that keep Initiative.search_vector up to
date (including the collectivity's name), and a GIN index. Nothing on SQLite."""

from django.db import migrations

FORWARD = """
CREATE EXTENSION IF NOT EXISTS unaccent;
DO $$ BEGIN
  CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = french);
EXCEPTION WHEN unique_violation THEN NULL;
END $$;
ALTER TEXT SEARCH CONFIGURATION french_unaccent
  ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;

CREATE FUNCTION initiatives_search_vector() RETURNS trigger AS $$
BEGIN
  NEW.search_vector :=
    setweight(to_tsvector('french_unaccent', coalesce(NEW.title, '')), 'A')
    || setweight(to_tsvector('french_unaccent', coalesce(
         (SELECT name FROM initiatives_collectivity WHERE id = NEW.collectivity_id),
         '')), 'A')
    || setweight(to_tsvector('french_unaccent', coalesce(NEW.summary, '')), 'B')
    || setweight(to_tsvector('french_unaccent', coalesce(NEW.description, '')), 'C');
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER initiatives_search_vector
  BEFORE INSERT OR UPDATE OF title, summary, description, collectivity_id, search_vector
  ON initiatives_initiative
  FOR EACH ROW EXECUTE FUNCTION initiatives_search_vector();

CREATE FUNCTION initiatives_collectivity_renamed() RETURNS trigger AS $$
BEGIN
  UPDATE initiatives_initiative SET search_vector = NULL
    WHERE collectivity_id = NEW.id;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER initiatives_collectivity_renamed
  AFTER UPDATE OF name ON initiatives_collectivity
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
  EXECUTE FUNCTION initiatives_collectivity_renamed();

UPDATE initiatives_initiative SET search_vector = NULL;
CREATE INDEX initiatives_search_vector_gin
  ON initiatives_initiative USING gin (search_vector);
"""

BACKWARD = """
DROP INDEX IF EXISTS initiatives_search_vector_gin;
DROP TRIGGER IF EXISTS initiatives_collectivity_renamed ON initiatives_collectivity;
DROP FUNCTION IF EXISTS initiatives_collectivity_renamed();
DROP TRIGGER IF EXISTS initiatives_search_vector ON initiatives_initiative;
DROP FUNCTION IF EXISTS initiatives_search_vector();
DROP TEXT SEARCH CONFIGURATION IF EXISTS french_unaccent;
"""


def run(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return operation


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0003_add_initiative_search_vector")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
