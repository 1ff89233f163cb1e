"""Facet tokens that never drift from the truth (migration 0006 keeps them up
to date; this one closes the cases it missed). Nothing on SQLite.

A missing or wrong token hides an initiative from every filtered list, the API
and the exports. `initiatives_refresh_facets(ids)`, which every trigger of 0006
calls, now also:

- locks, after the initiatives, their collectivities and departments `FOR
  SHARE` (ordered by id) before reading them. A concurrent change of a
  collectivity's department, kind or label, or of a department's region, then
  waits for this transaction and its trigger sees the initiative once this one
  commits; or this refresh waits for it and reads what it committed (READ
  COMMITTED, Django's default: each statement of a plpgsql function takes a
  fresh snapshot);
- records the initiatives in `initiatives_facet_dirty`, each once per
  transaction (its primary key). A deferred constraint trigger on that table
  runs at commit (or at `SET CONSTRAINTS ALL IMMEDIATE`, which `loaddata`
  runs last): its first call takes every recorded initiative out, locks them
  as above and counts again those whose tokens changed since they were
  counted (the later calls find nothing left). So an initiative inserted
  before its collectivity (`loaddata` defers foreign keys), which found no
  tokens then, gets them at commit.

The price of the locks: two transactions that each write an initiative of a
collectivity, then change that collectivity, now end in a deadlock error for
one of them instead of both going through.

Updating a link row (`Initiative.themes.through.objects.filter(…).update(…)`,
the same on the vigilance points) refreshes the initiatives it was and is
linked to: the link tables get UPDATE triggers.

The immediate count stays: counts are right after each statement, inside a
transaction too (the test suite's are never committed).
"""

from django.db import migrations

FORWARD = """
CREATE TABLE initiatives_facet_dirty (
  initiative_id bigint PRIMARY KEY
);

-- Lock the initiatives, then what their tokens read. Like
-- initiatives_facets_settle, its statements are planned once per session
-- (plan_cache_mode): planning them again for each call's array cost several
-- times more than running them, on the path of every saved initiative.
CREATE FUNCTION initiatives_lock_facets(ids bigint[]) RETURNS void AS $$
BEGIN
  -- Two transactions refreshing one initiative take turns: the second then
  -- reads the tokens the first one counted.
  PERFORM 1 FROM initiatives_initiative WHERE id = ANY(ids) ORDER BY id FOR UPDATE;
  -- A change of a collectivity or a department a published initiative reads
  -- waits for this transaction, or this one for it: the next statement then
  -- reads it committed. The others have no tokens to read.
  -- (Joined to unnest(ids): a plan filtering rows by `= ANY(ids)` would
  -- read the whole array for each row of a bulk statement.)
  PERFORM 1 FROM initiatives_collectivity
  WHERE id IN (SELECT i.collectivity_id FROM unnest(ids) AS touched (id)
               JOIN initiatives_initiative i USING (id)
               WHERE i.status = 'published')
  ORDER BY id FOR SHARE;
  PERFORM 1 FROM initiatives_department
  WHERE id IN (SELECT c.department_id FROM unnest(ids) AS touched (id)
               JOIN initiatives_initiative i USING (id)
               JOIN initiatives_collectivity c ON c.id = i.collectivity_id
               WHERE i.status = 'published')
  ORDER BY id FOR SHARE;
END $$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;

CREATE OR REPLACE FUNCTION initiatives_refresh_facets(ids bigint[]) RETURNS void AS $$
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  PERFORM initiatives_lock_facets(ids);
  PERFORM initiatives_count_facets(ids);
  -- Checked again at commit (initiatives_facets_settle), once per transaction.
  INSERT INTO initiatives_facet_dirty (initiative_id)
  SELECT DISTINCT unnest(ids) ORDER BY 1
  ON CONFLICT DO NOTHING;
END $$ LANGUAGE plpgsql;

-- At commit: count again the initiatives whose tokens are no longer those
-- counted (a row they read was written after their refresh).
CREATE FUNCTION initiatives_facets_settle() RETURNS trigger AS $$
DECLARE
  ids bigint[];
  stale bigint[];
BEGIN
  -- The first call settles every recorded initiative. The others, one per
  -- row, find theirs gone with one look in the index, where a scan would read
  -- every row deleted so far.
  PERFORM 1 FROM initiatives_facet_dirty WHERE initiative_id = NEW.initiative_id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  WITH settled AS (
    DELETE FROM initiatives_facet_dirty RETURNING initiative_id
  )
  SELECT array_agg(initiative_id ORDER BY initiative_id) INTO ids FROM settled;
  PERFORM initiatives_lock_facets(ids);
  -- The same tokens in another order only cost a needless recount.
  stale := ARRAY(
    SELECT initiative_id
    FROM initiatives_current_tokens(ids) AS current
    FULL JOIN (SELECT * FROM initiatives_facet_tokens
               WHERE initiative_id = ANY(ids)) AS counted USING (initiative_id)
    WHERE current.tokens IS DISTINCT FROM counted.tokens);
  IF cardinality(stale) > 0 THEN
    PERFORM initiatives_count_facets(stale);
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;

CREATE CONSTRAINT TRIGGER initiatives_facets_settle
  AFTER INSERT ON initiatives_facet_dirty
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION initiatives_facets_settle();

-- Themes and vigilance points: a link moved to another value or initiative.
CREATE FUNCTION initiatives_facets_links_updated() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(
    SELECT initiative_id FROM old_rows
    UNION SELECT initiative_id FROM new_rows));
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER initiatives_facets_themes_updated
  AFTER UPDATE ON initiatives_initiative_themes
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_updated();
CREATE TRIGGER initiatives_facets_vigilance_updated
  AFTER UPDATE ON initiatives_initiative_vigilance_points
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_updated();
"""

# Migration 0006's refresh, as it was.
BACKWARD = """
DROP TRIGGER IF EXISTS initiatives_facets_vigilance_updated
  ON initiatives_initiative_vigilance_points;
DROP TRIGGER IF EXISTS initiatives_facets_themes_updated
  ON initiatives_initiative_themes;
DROP FUNCTION IF EXISTS initiatives_facets_links_updated();

CREATE OR REPLACE FUNCTION initiatives_refresh_facets(ids bigint[]) RETURNS void AS $$
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  -- Two transactions refreshing one initiative take turns: the second then
  -- reads the tokens the first one counted.
  PERFORM 1 FROM initiatives_initiative WHERE id = ANY(ids) ORDER BY id FOR UPDATE;
  PERFORM initiatives_count_facets(ids);
END $$ LANGUAGE plpgsql;

DROP TABLE IF EXISTS initiatives_facet_dirty;
DROP FUNCTION IF EXISTS initiatives_facets_settle();
DROP FUNCTION IF EXISTS initiatives_lock_facets(bigint[]);
"""


def run(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return operation


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0011_refuse_control_characters")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
