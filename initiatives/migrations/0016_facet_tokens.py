"""Install the facets' PostgreSQL functions and triggers as the
facet registry (initiatives/facets/registry.py) declares them, then count
again. Written by `python manage.py facet_migration`, not by hand. Nothing on
SQLite."""

from django.db import migrations

FACETS_SQL = r"""
DO $$
DECLARE
  found record;
BEGIN
  FOR found IN
    SELECT tgname, tgrelid::regclass AS relation FROM pg_trigger
    WHERE tgname LIKE 'initiatives\_facets\_%' AND NOT tgisinternal
  LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', found.tgname, found.relation);
  END LOOP;
  FOR found IN
    SELECT oid::regprocedure AS signature FROM pg_proc
    WHERE proname LIKE 'initiatives\_facets\_%\_updated'
      AND proname <> ALL(ARRAY['initiatives_current_tokens', 'initiatives_facets_collectivity_updated', 'initiatives_facets_department_updated', 'initiatives_facets_links_updated', 'initiatives_facets_updated', 'initiatives_lock_facets'])
  LOOP
    EXECUTE format('DROP FUNCTION %s', found.signature);
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION initiatives_current_tokens(ids bigint[]) RETURNS TABLE (initiative_id bigint, tokens text[]) AS $$
  SELECT initiative.id,
    ARRAY['*']
    || ARRAY['department:' || collectivity.department_id]
    || ARRAY['region:' || department.region_id]
    || ARRAY(SELECT 'theme:' || l.theme_id FROM initiatives_initiative_themes l WHERE l.initiative_id = initiative.id ORDER BY l.theme_id)
    || ARRAY['category:' || initiative.category_id]
    || ARRAY['kind:' || collectivity.kind]
    || CASE WHEN collectivity.population_band IS NULL THEN '{}'::text[] ELSE ARRAY['size:' || collectivity.population_band] END
    || CASE WHEN collectivity.label_level IS NULL THEN '{}'::text[] ELSE ARRAY['label:' || collectivity.label_level] END
    || ARRAY(SELECT 'vigilance:' || l.vigilancepoint_id FROM initiatives_initiative_vigilance_points l WHERE l.initiative_id = initiative.id ORDER BY l.vigilancepoint_id)
    || ARRAY['period:' || initiative.period]
    || CASE WHEN initiative.is_featured THEN ARRAY['featured:1'] ELSE '{}'::text[] END
  FROM initiatives_initiative initiative
  JOIN initiatives_collectivity collectivity ON collectivity.id = initiative.collectivity_id
  JOIN initiatives_department department ON department.id = collectivity.department_id
  WHERE initiative.id = ANY(ids) AND initiative.status = 'published'
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION initiatives_lock_facets(ids bigint[]) RETURNS void AS $$
BEGIN
  -- Two transactions refreshing one initiative take turns; a change of a row
  -- the tokens read waits for this transaction, or this one for it (then the
  -- next statement reads it committed). Joined to unnest(ids): a plan
  -- filtering by `= ANY(ids)` would read the whole array for each row.
  PERFORM 1 FROM initiatives_initiative WHERE id = ANY(ids) ORDER BY id FOR UPDATE;
  PERFORM 1 FROM initiatives_collectivity
  WHERE id IN (SELECT initiative.collectivity_id FROM unnest(ids) AS touched (id)
               JOIN initiatives_initiative initiative USING (id)
               WHERE initiative.status = 'published')
  ORDER BY id FOR SHARE;
  PERFORM 1 FROM initiatives_department
  WHERE id IN (SELECT collectivity.department_id FROM unnest(ids) AS touched (id)
               JOIN initiatives_initiative initiative USING (id)
               JOIN initiatives_collectivity collectivity ON collectivity.id = initiative.collectivity_id
               WHERE initiative.status = 'published')
  ORDER BY id FOR SHARE;
END
$$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;

CREATE OR REPLACE FUNCTION initiatives_facets_updated() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (n.status, n.category_id, n.period, n.is_featured, n.collectivity_id) IS DISTINCT FROM (o.status, o.category_id, o.period, o.is_featured, o.collectivity_id)));
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION initiatives_facets_collectivity_updated() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(
    SELECT initiative.id FROM initiatives_initiative initiative
    JOIN new_rows n ON n.id = initiative.collectivity_id
    JOIN old_rows o ON o.id = n.id
    WHERE (n.department_id, n.kind, n.population_band, n.label_level) IS DISTINCT FROM (o.department_id, o.kind, o.population_band, o.label_level)));
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION initiatives_facets_department_updated() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(
    SELECT initiative.id FROM initiatives_initiative initiative
    JOIN initiatives_collectivity collectivity ON collectivity.id = initiative.collectivity_id
    JOIN new_rows n ON n.id = collectivity.department_id
    JOIN old_rows o ON o.id = n.id
    WHERE (n.region_id) IS DISTINCT FROM (o.region_id)));
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER initiatives_facets_inserted AFTER INSERT ON initiatives_initiative REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_inserted();

CREATE TRIGGER initiatives_facets_deleted AFTER DELETE ON initiatives_initiative REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_deleted();

CREATE TRIGGER initiatives_facets_updated AFTER UPDATE ON initiatives_initiative REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_updated();

CREATE TRIGGER initiatives_facets_truncated AFTER TRUNCATE ON initiatives_initiative
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_truncated();

CREATE CONSTRAINT TRIGGER initiatives_facets_settle
  AFTER INSERT ON initiatives_facet_dirty
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION initiatives_facets_settle();

CREATE TRIGGER initiatives_facets_collectivity_updated AFTER UPDATE ON initiatives_collectivity REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_collectivity_updated();

CREATE TRIGGER initiatives_facets_department_updated AFTER UPDATE ON initiatives_department REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_department_updated();

CREATE TRIGGER initiatives_facets_theme_inserted AFTER INSERT ON initiatives_initiative_themes REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_inserted();

CREATE TRIGGER initiatives_facets_theme_deleted AFTER DELETE ON initiatives_initiative_themes REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_deleted();

CREATE TRIGGER initiatives_facets_theme_updated AFTER UPDATE ON initiatives_initiative_themes REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_updated();

CREATE TRIGGER initiatives_facets_vigilance_inserted AFTER INSERT ON initiatives_initiative_vigilance_points REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_inserted();

CREATE TRIGGER initiatives_facets_vigilance_deleted AFTER DELETE ON initiatives_initiative_vigilance_points REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_deleted();

CREATE TRIGGER initiatives_facets_vigilance_updated AFTER UPDATE ON initiatives_initiative_vigilance_points REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_updated();

SELECT initiatives_rebuild_facets();
"""

# What the previous facet migration installed.
PREVIOUS_SQL = r"""
DO $$
DECLARE
  found record;
BEGIN
  FOR found IN
    SELECT tgname, tgrelid::regclass AS relation FROM pg_trigger
    WHERE tgname LIKE 'initiatives\_facets\_%' AND NOT tgisinternal
  LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', found.tgname, found.relation);
  END LOOP;
  FOR found IN
    SELECT oid::regprocedure AS signature FROM pg_proc
    WHERE proname LIKE 'initiatives\_facets\_%\_updated'
      AND proname <> ALL(ARRAY['initiatives_current_tokens', 'initiatives_facets_collectivity_updated', 'initiatives_facets_department_updated', 'initiatives_facets_links_updated', 'initiatives_facets_updated', 'initiatives_lock_facets'])
  LOOP
    EXECUTE format('DROP FUNCTION %s', found.signature);
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION initiatives_current_tokens(ids bigint[]) RETURNS TABLE (initiative_id bigint, tokens text[]) AS $$
  SELECT initiative.id,
    ARRAY['*']
    || ARRAY['department:' || collectivity.department_id]
    || ARRAY['region:' || department.region_id]
    || ARRAY(SELECT 'theme:' || l.theme_id FROM initiatives_initiative_themes l WHERE l.initiative_id = initiative.id)
    || ARRAY['category:' || initiative.category_id]
    || ARRAY['kind:' || collectivity.kind]
    || CASE WHEN collectivity.population_band IS NULL THEN '{}'::text[] ELSE ARRAY['size:' || collectivity.population_band] END
    || CASE WHEN collectivity.label_level IS NULL THEN '{}'::text[] ELSE ARRAY['label:' || collectivity.label_level] END
    || ARRAY(SELECT 'vigilance:' || l.vigilancepoint_id FROM initiatives_initiative_vigilance_points l WHERE l.initiative_id = initiative.id)
    || ARRAY['period:' || initiative.period]
    || CASE WHEN initiative.is_featured THEN ARRAY['featured:1'] ELSE '{}'::text[] END
  FROM initiatives_initiative initiative
  JOIN initiatives_collectivity collectivity ON collectivity.id = initiative.collectivity_id
  JOIN initiatives_department department ON department.id = collectivity.department_id
  WHERE initiative.id = ANY(ids) AND initiative.status = 'published'
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION initiatives_lock_facets(ids bigint[]) RETURNS void AS $$
BEGIN
  -- Two transactions refreshing one initiative take turns; a change of a row
  -- the tokens read waits for this transaction, or this one for it (then the
  -- next statement reads it committed). Joined to unnest(ids): a plan
  -- filtering by `= ANY(ids)` would read the whole array for each row.
  PERFORM 1 FROM initiatives_initiative WHERE id = ANY(ids) ORDER BY id FOR UPDATE;
  PERFORM 1 FROM initiatives_collectivity
  WHERE id IN (SELECT initiative.collectivity_id FROM unnest(ids) AS touched (id)
               JOIN initiatives_initiative initiative USING (id)
               WHERE initiative.status = 'published')
  ORDER BY id FOR SHARE;
  PERFORM 1 FROM initiatives_department
  WHERE id IN (SELECT collectivity.department_id FROM unnest(ids) AS touched (id)
               JOIN initiatives_initiative initiative USING (id)
               JOIN initiatives_collectivity collectivity ON collectivity.id = initiative.collectivity_id
               WHERE initiative.status = 'published')
  ORDER BY id FOR SHARE;
END
$$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;

CREATE OR REPLACE FUNCTION initiatives_facets_updated() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (n.status, n.category_id, n.period, n.is_featured, n.collectivity_id) IS DISTINCT FROM (o.status, o.category_id, o.period, o.is_featured, o.collectivity_id)));
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION initiatives_facets_collectivity_updated() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(
    SELECT initiative.id FROM initiatives_initiative initiative
    JOIN new_rows n ON n.id = initiative.collectivity_id
    JOIN old_rows o ON o.id = n.id
    WHERE (n.department_id, n.kind, n.population_band, n.label_level) IS DISTINCT FROM (o.department_id, o.kind, o.population_band, o.label_level)));
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION initiatives_facets_department_updated() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(
    SELECT initiative.id FROM initiatives_initiative initiative
    JOIN initiatives_collectivity collectivity ON collectivity.id = initiative.collectivity_id
    JOIN new_rows n ON n.id = collectivity.department_id
    JOIN old_rows o ON o.id = n.id
    WHERE (n.region_id) IS DISTINCT FROM (o.region_id)));
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER initiatives_facets_inserted AFTER INSERT ON initiatives_initiative REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_inserted();

CREATE TRIGGER initiatives_facets_deleted AFTER DELETE ON initiatives_initiative REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_deleted();

CREATE TRIGGER initiatives_facets_updated AFTER UPDATE ON initiatives_initiative REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_updated();

CREATE TRIGGER initiatives_facets_truncated AFTER TRUNCATE ON initiatives_initiative
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_truncated();

CREATE CONSTRAINT TRIGGER initiatives_facets_settle
  AFTER INSERT ON initiatives_facet_dirty
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION initiatives_facets_settle();

CREATE TRIGGER initiatives_facets_collectivity_updated AFTER UPDATE ON initiatives_collectivity REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_collectivity_updated();

CREATE TRIGGER initiatives_facets_department_updated AFTER UPDATE ON initiatives_department REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_department_updated();

CREATE TRIGGER initiatives_facets_theme_inserted AFTER INSERT ON initiatives_initiative_themes REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_inserted();

CREATE TRIGGER initiatives_facets_theme_deleted AFTER DELETE ON initiatives_initiative_themes REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_deleted();

CREATE TRIGGER initiatives_facets_theme_updated AFTER UPDATE ON initiatives_initiative_themes REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_updated();

CREATE TRIGGER initiatives_facets_vigilance_inserted AFTER INSERT ON initiatives_initiative_vigilance_points REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_inserted();

CREATE TRIGGER initiatives_facets_vigilance_deleted AFTER DELETE ON initiatives_initiative_vigilance_points REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_deleted();

CREATE TRIGGER initiatives_facets_vigilance_updated AFTER UPDATE ON initiatives_initiative_vigilance_points REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_updated();

SELECT initiatives_rebuild_facets();
"""


def run(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters: the SQL's `%` are LIKE's, not placeholders.
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return operation


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0015_facet_tokens")]

    operations = [migrations.RunPython(run(FACETS_SQL), run(PREVIOUS_SQL))]
