"""Facet counts kept up to date by PostgreSQL itself, so that the catalogue's
counts cost the same whatever its size. Nothing on SQLite (a small database:
the counts are computed there from the initiatives, see initiatives/facets.py).

Each published initiative holds a set of facet tokens: `*` (every initiative),
`department:<id>`, `region:<id>`, `theme:<id>` (one per theme), `category:<id>`,
`kind:<kind>`, `label:<level>`, `vigilance:<id>` (one per point), `period:<p>`
and `featured:1`. `initiatives_facet_pair(a, b, count)` holds, for every
ordered pair of tokens, the number of published initiatives having both (a = b:
having a). With it, the counts of the unfiltered catalogue (a = `*`) and of a
selection within one facet (a = the selected token) are read, not computed.

`initiatives_facet_tokens` remembers each published initiative's tokens as
counted, so that a change subtracts exactly what was added. Statement-level
triggers on the initiatives, their themes and vigilance points, the
collectivities and the departments call `initiatives_refresh_facets(ids)` with
the initiatives a statement touched; it locks them, takes their old tokens out
of the pairs and puts their current ones in, in the same transaction.
"""

from django.db import migrations

FORWARD = """
CREATE TABLE initiatives_facet_pair (
  a text NOT NULL,
  b text NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (a, b)
);
CREATE TABLE initiatives_facet_tokens (
  initiative_id bigint PRIMARY KEY,
  tokens text[] NOT NULL
);

CREATE FUNCTION initiatives_current_tokens(ids bigint[])
RETURNS TABLE (initiative_id bigint, tokens text[]) AS $$
  SELECT i.id,
    ARRAY['*', 'department:' || c.department_id, 'region:' || d.region_id,
          'kind:' || c.kind, 'period:' || i.period]
    || CASE WHEN c.label_level IS NULL THEN '{}'::text[]
            ELSE ARRAY['label:' || c.label_level] END
    || CASE WHEN i.category_id IS NULL THEN '{}'::text[]
            ELSE ARRAY['category:' || i.category_id] END
    || CASE WHEN i.is_featured THEN ARRAY['featured:1'] ELSE '{}'::text[] END
    || ARRAY(SELECT 'theme:' || t.theme_id FROM initiatives_initiative_themes t
             WHERE t.initiative_id = i.id)
    || ARRAY(SELECT 'vigilance:' || v.vigilancepoint_id
             FROM initiatives_initiative_vigilance_points v
             WHERE v.initiative_id = i.id)
  FROM initiatives_initiative i
  JOIN initiatives_collectivity c ON c.id = i.collectivity_id
  JOIN initiatives_department d ON d.id = c.department_id
  WHERE i.id = ANY(ids) AND i.status = 'published'
$$ LANGUAGE sql STABLE;

CREATE FUNCTION initiatives_count_facets(ids bigint[]) RETURNS void AS $$
BEGIN
  WITH old AS (
    DELETE FROM initiatives_facet_tokens WHERE initiative_id = ANY(ids)
    RETURNING tokens
  ), delta AS (
    SELECT a, b, -count(*) AS n
    FROM old, unnest(old.tokens) AS a, unnest(old.tokens) AS b
    GROUP BY a, b
  )
  INSERT INTO initiatives_facet_pair AS pair (a, b, count)
  SELECT a, b, n FROM delta ORDER BY a, b
  ON CONFLICT (a, b) DO UPDATE SET count = pair.count + EXCLUDED.count;

  WITH new AS (
    INSERT INTO initiatives_facet_tokens (initiative_id, tokens)
    SELECT * FROM initiatives_current_tokens(ids)
    RETURNING tokens
  ), delta AS (
    SELECT a, b, count(*) AS n
    FROM new, unnest(new.tokens) AS a, unnest(new.tokens) AS b
    GROUP BY a, b
  )
  INSERT INTO initiatives_facet_pair AS pair (a, b, count)
  SELECT a, b, n FROM delta ORDER BY a, b
  ON CONFLICT (a, b) DO UPDATE SET count = pair.count + EXCLUDED.count;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION initiatives_refresh_facets(ids bigint[]) RETURNS void AS $$
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  -- Two transactions refreshing one initiative take turns: the second then
  -- reads the tokens the first one counted.
  PERFORM 1 FROM initiatives_initiative WHERE id = ANY(ids) ORDER BY id FOR UPDATE;
  PERFORM initiatives_count_facets(ids);
END $$ LANGUAGE plpgsql;

-- Count everything again (`manage.py rebuild_facet_counts`), by chunks of
-- initiatives, while writers wait.
CREATE FUNCTION initiatives_rebuild_facets() RETURNS void AS $$
DECLARE
  chunk bigint[];
BEGIN
  LOCK TABLE initiatives_initiative IN SHARE MODE;
  LOCK TABLE initiatives_facet_pair, initiatives_facet_tokens IN EXCLUSIVE MODE;
  TRUNCATE initiatives_facet_pair, initiatives_facet_tokens;
  FOR chunk IN
    SELECT array_agg(id) FROM (
      SELECT id, (row_number() OVER (ORDER BY id) - 1) / 50000 AS part
      FROM initiatives_initiative WHERE status = 'published'
    ) AS numbered GROUP BY part
  LOOP
    PERFORM initiatives_count_facets(chunk);
  END LOOP;
END $$ LANGUAGE plpgsql;

-- Initiatives: a new or deleted row, or a change of what its tokens read.
CREATE FUNCTION initiatives_facets_inserted() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(SELECT id FROM new_rows));
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION initiatives_facets_deleted() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(SELECT id FROM old_rows));
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION initiatives_facets_updated() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (n.status, n.collectivity_id, n.category_id, n.period, n.is_featured)
      IS DISTINCT FROM (o.status, o.collectivity_id, o.category_id, o.period,
                        o.is_featured)));
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER initiatives_facets_inserted AFTER INSERT ON initiatives_initiative
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_inserted();
CREATE TRIGGER initiatives_facets_deleted AFTER DELETE ON initiatives_initiative
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_deleted();
CREATE TRIGGER initiatives_facets_updated AFTER UPDATE ON initiatives_initiative
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_updated();

-- Themes and vigilance points: the links added or removed.
CREATE FUNCTION initiatives_facets_links_inserted() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(
    ARRAY(SELECT DISTINCT initiative_id FROM new_rows));
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION initiatives_facets_links_deleted() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(
    ARRAY(SELECT DISTINCT initiative_id FROM old_rows));
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER initiatives_facets_themes_inserted
  AFTER INSERT ON initiatives_initiative_themes REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_inserted();
CREATE TRIGGER initiatives_facets_themes_deleted
  AFTER DELETE ON initiatives_initiative_themes REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_deleted();
CREATE TRIGGER initiatives_facets_vigilance_inserted
  AFTER INSERT ON initiatives_initiative_vigilance_points
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_inserted();
CREATE TRIGGER initiatives_facets_vigilance_deleted
  AFTER DELETE ON initiatives_initiative_vigilance_points
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_links_deleted();

-- A collectivity's kind, label or department; a department's region.
CREATE FUNCTION initiatives_facets_collectivities_updated() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(
    SELECT i.id FROM initiatives_initiative i
    JOIN new_rows n ON n.id = i.collectivity_id
    JOIN old_rows o ON o.id = n.id
    WHERE (n.kind, n.label_level, n.department_id)
      IS DISTINCT FROM (o.kind, o.label_level, o.department_id)));
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION initiatives_facets_departments_updated() RETURNS trigger AS $$
BEGIN
  PERFORM initiatives_refresh_facets(ARRAY(
    SELECT i.id FROM initiatives_initiative i
    JOIN initiatives_collectivity c ON c.id = i.collectivity_id
    JOIN new_rows n ON n.id = c.department_id
    JOIN old_rows o ON o.id = n.id
    WHERE n.region_id IS DISTINCT FROM o.region_id));
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER initiatives_facets_collectivities_updated
  AFTER UPDATE ON initiatives_collectivity
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_collectivities_updated();
CREATE TRIGGER initiatives_facets_departments_updated
  AFTER UPDATE ON initiatives_department
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_departments_updated();

-- Emptying the initiatives (Django's flush) empties the counts.
CREATE FUNCTION initiatives_facets_truncated() RETURNS trigger AS $$
BEGIN
  TRUNCATE initiatives_facet_pair, initiatives_facet_tokens;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER initiatives_facets_truncated AFTER TRUNCATE ON initiatives_initiative
  FOR EACH STATEMENT EXECUTE FUNCTION initiatives_facets_truncated();

SELECT initiatives_rebuild_facets();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS initiatives_facets_truncated ON initiatives_initiative;
DROP TRIGGER IF EXISTS initiatives_facets_departments_updated
  ON initiatives_department;
DROP TRIGGER IF EXISTS initiatives_facets_collectivities_updated
  ON initiatives_collectivity;
DROP TRIGGER IF EXISTS initiatives_facets_vigilance_deleted
  ON initiatives_initiative_vigilance_points;
DROP TRIGGER IF EXISTS initiatives_facets_vigilance_inserted
  ON initiatives_initiative_vigilance_points;
DROP TRIGGER IF EXISTS initiatives_facets_themes_deleted
  ON initiatives_initiative_themes;
DROP TRIGGER IF EXISTS initiatives_facets_themes_inserted
  ON initiatives_initiative_themes;
DROP TRIGGER IF EXISTS initiatives_facets_updated ON initiatives_initiative;
DROP TRIGGER IF EXISTS initiatives_facets_deleted ON initiatives_initiative;
DROP TRIGGER IF EXISTS initiatives_facets_inserted ON initiatives_initiative;
DROP FUNCTION IF EXISTS initiatives_facets_truncated();
DROP FUNCTION IF EXISTS initiatives_facets_departments_updated();
DROP FUNCTION IF EXISTS initiatives_facets_collectivities_updated();
DROP FUNCTION IF EXISTS initiatives_facets_links_deleted();
DROP FUNCTION IF EXISTS initiatives_facets_links_inserted();
DROP FUNCTION IF EXISTS initiatives_facets_updated();
DROP FUNCTION IF EXISTS initiatives_facets_deleted();
DROP FUNCTION IF EXISTS initiatives_facets_inserted();
DROP FUNCTION IF EXISTS initiatives_rebuild_facets();
DROP FUNCTION IF EXISTS initiatives_refresh_facets(bigint[]);
DROP FUNCTION IF EXISTS initiatives_count_facets(bigint[]);
DROP FUNCTION IF EXISTS initiatives_current_tokens(bigint[]);
DROP TABLE IF EXISTS initiatives_facet_tokens;
DROP TABLE IF EXISTS initiatives_facet_pair;
"""


def run(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return operation


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0005_add_history")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
