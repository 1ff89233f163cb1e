"""Each published initiative's facet tokens and the pair counts (PostgreSQL,
migrations 0006 and 0012) are those a full rebuild gives, whatever wrote the
rows: a bulk update of a link table, `loaddata` inserting an initiative before
its collectivity, two transactions racing on a collectivity or a department. A
wrong token hides an initiative from every filtered list, the API and the
exports.

The tests of committed transactions write with connections of their own and
commit for real: the `committing` fixture deletes their rows after, then
rebuilds the counts.
"""

import json
import threading
import time
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from core import page_cache
from initiatives.facets import tokens
from initiatives.models import Initiative
from tests.factories import InitiativeFactory, ThemeFactory
from vigilance.models import VigilancePoint

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the facet tokens are PostgreSQL's"
)
pytestmark = [postgresql_only, pytest.mark.django_db]

# Long enough for a busy machine, short enough that a wrong interleaving fails
# instead of hanging the suite.
TIMEOUTS = "-c lock_timeout=10s -c statement_timeout=30s"


def facet_state(cursor):
    """The tokens (a set per initiative) and the pair counts kept."""
    cursor.execute("SELECT initiative_id, tokens FROM initiatives_facet_tokens")
    tokens = {pk: set(kept) for pk, kept in cursor.fetchall()}
    cursor.execute("SELECT a, b, count FROM initiatives_facet_pair WHERE count > 0")
    return tokens, set(cursor.fetchall())


def assert_exact(cursor):
    """Check the tokens and pair counts kept are a full rebuild's, leaving
    them as they were; return the tokens."""
    kept = facet_state(cursor)
    cursor.execute("SAVEPOINT rebuilt")
    cursor.execute("SELECT initiatives_rebuild_facets()")
    rebuilt = facet_state(cursor)
    cursor.execute("ROLLBACK TO SAVEPOINT rebuilt")
    kept_tokens, rebuilt_tokens = kept[0], rebuilt[0]
    wrong = {
        pk: (kept_tokens.get(pk), rebuilt_tokens.get(pk))
        for pk in kept_tokens.keys() | rebuilt_tokens.keys()
        if kept_tokens.get(pk) != rebuilt_tokens.get(pk)
    }
    assert not wrong, wrong
    assert kept[1] == rebuilt[1]
    return kept_tokens


def listed(client, facet, slug):
    """The slugs the list page and the API give for one facet value."""
    response = client.get(reverse("initiatives:list"), {facet: slug})
    page = [initiative.slug for initiative in response.context["page"]]
    api = client.get("/api/v1/initiatives/", {facet: slug}).json()["results"]
    return page, [initiative["slug"] for initiative in api]


def vigilance_point():
    number = VigilancePoint.objects.count()
    return VigilancePoint.objects.create(
        title=f"Point {number}", slug=f"point-{number}", summary="Un résumé."
    )


# Each many-to-many facet: its field, the link table's field of the value, a
# factory of values.
LINKS = {
    "theme": ("themes", "theme", ThemeFactory),
    "vigilance": ("vigilance_points", "vigilancepoint", vigilance_point),
}
LINK_TABLES = [
    "initiatives_initiative_themes",
    "initiatives_initiative_vigilance_points",
]


@pytest.mark.parametrize("facet", LINKS)
def test_a_link_updated_in_bulk_moves_the_tokens(client, facet):
    field, target, new_value = LINKS[facet]
    old, new = new_value(), new_value()
    first, second = InitiativeFactory.create_batch(2, published=True)
    getattr(first, field).add(old)
    links = getattr(Initiative, field).through.objects
    with connection.cursor() as cursor:
        links.filter(initiative=first).update(**{target: new})
        assert f"{facet}:{new.pk}" in assert_exact(cursor)[first.pk]
        assert listed(client, facet, new.slug) == ([first.slug], [first.slug])
        assert listed(client, facet, old.slug) == ([], [])
        # Both the initiative the link leaves and the one it joins.
        links.filter(initiative=first).update(initiative=second)
        tokens = assert_exact(cursor)
    assert f"{facet}:{new.pk}" not in tokens[first.pk]
    assert f"{facet}:{new.pk}" in tokens[second.pk]
    assert listed(client, facet, new.slug) == ([second.slug], [second.slug])


def connect(**options):
    """A connection of its own to the test database: what it commits stays."""
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        options=TIMEOUTS,
        **options,
    )


@pytest.fixture
def committing():
    """Give `connect`; afterwards delete the `jetons-` rows and the `JT`
    department the test committed and rebuild the counts, leaving the
    database as the test found it. (The suite's own connection stays idle in
    its transaction meanwhile.)"""
    yield connect
    with connect() as cleaner:
        found = "SELECT id FROM initiatives_initiative WHERE slug LIKE 'jetons-%'"
        for links in LINK_TABLES:
            cleaner.execute(f"DELETE FROM {links} WHERE initiative_id IN ({found})")
        cleaner.execute(f"DELETE FROM initiatives_initiative WHERE id IN ({found})")
        cleaner.execute(
            "DELETE FROM initiatives_collectivity WHERE slug LIKE 'jetons-%'"
        )
        cleaner.execute("DELETE FROM initiatives_department WHERE code = 'JT'")
        cleaner.execute("SELECT initiatives_rebuild_facets()")


def seed_ids(cursor):
    """Two departments of two regions, a category and a theme of the seed."""
    cursor.execute(
        "SELECT code, id FROM initiatives_department WHERE code IN ('13', '60')"
    )
    departments = dict(cursor.fetchall())
    cursor.execute("SELECT min(id) FROM initiatives_category")
    [category] = cursor.fetchone()
    cursor.execute("SELECT id FROM initiatives_theme WHERE slug = 'culture'")
    [theme] = cursor.fetchone()
    return departments, category, theme


def unused_collectivity_id(cursor):
    cursor.execute("SELECT max(id) + 1000 FROM initiatives_collectivity")
    return cursor.fetchone()[0]


def insert_collectivity(cursor, pk, slug, department):
    cursor.execute(
        "INSERT INTO initiatives_collectivity (id, name, slug, kind, code, siren, "
        "department_id, postcodes, website, label_level) "
        "VALUES (%s, %s, %s, 'commune', %s, '', %s, '', '', 3)",
        [pk, slug.title(), slug, f"J{pk}", department],
    )


def insert_initiative(cursor, slug, collectivity, category):
    """Insert a published initiative; return its id."""
    cursor.execute(
        "INSERT INTO initiatives_initiative (title, slug, collectivity_id, "
        "category_id, summary, description, results, website, image, image_alt, "
        "period, outcome, is_featured, status, source_note, published_at, "
        "created_at, updated_at) VALUES (%s, %s, %s, %s, 'Un résumé.', "
        "'Une description.', '', '', '', '', 'unknown', 'unknown', false, "
        "'published', '', now(), now(), now()) RETURNING id",
        [slug, slug, collectivity, category],
    )
    return cursor.fetchone()[0]


def test_loaddata_gives_an_initiative_before_its_collectivity_its_tokens(tmp_path):
    with connection.cursor() as cursor:
        departments, category, theme = seed_ids(cursor)
        collectivity = unused_collectivity_id(cursor)
    moment = "2026-01-15T10:00:00Z"
    # Initiative first: loaddata saves in the file's order and checks the
    # foreign keys at the end.
    fixture = tmp_path / "jetons.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "initiatives.initiative",
                    "fields": {
                        "title": "Jetons chargés",
                        "slug": "jetons-charges",
                        "collectivity": collectivity,
                        "category": category,
                        "summary": "Un résumé.",
                        "description": "Une description.",
                        "status": "published",
                        "published_at": moment,
                        "created_at": moment,
                        "updated_at": moment,
                        "themes": [theme],
                    },
                },
                {
                    "model": "initiatives.collectivity",
                    "pk": collectivity,
                    "fields": {
                        "name": "Jetons-sur-Mer",
                        "slug": "jetons-sur-mer",
                        "kind": "commune",
                        "code": "JETONS",
                        "department": departments["60"],
                        "label_level": 3,
                    },
                },
            ]
        )
    )
    call_command("loaddata", fixture, stdout=StringIO())
    initiative = Initiative.objects.get(slug="jetons-charges")
    with connection.cursor() as cursor:
        tokens = assert_exact(cursor)[initiative.pk]
    assert {f"department:{departments['60']}", "label:3", f"theme:{theme}"} <= tokens


def test_an_initiative_committed_before_its_collectivity_gets_its_tokens(
    committing,
):
    with committing() as writer, writer.cursor() as cursor:
        departments, category, theme = seed_ids(cursor)
        collectivity = unused_collectivity_id(cursor)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        initiative = insert_initiative(cursor, "jetons-avant", collectivity, category)
        cursor.execute(
            "INSERT INTO initiatives_initiative_themes (initiative_id, theme_id) "
            "VALUES (%s, %s)",
            [initiative, theme],
        )
        insert_collectivity(cursor, collectivity, "jetons-apres", departments["60"])
    with committing() as reader, reader.cursor() as cursor:
        tokens = assert_exact(cursor)[initiative]
    assert {f"department:{departments['60']}", "label:3", f"theme:{theme}"} <= tokens


def commit_while_waiting(holder, writer):
    """Run `writer(connection)` in a thread while `holder` keeps its
    transaction open, until the writer is done or waits for a lock; commit
    `holder`, then let the writer finish."""
    failures = []

    def write():
        try:
            writer(writing)
            writing.commit()
        except Exception as error:  # reported in the test's thread
            failures.append(error)

    with connect(autocommit=True) as watcher, connect() as writing:
        thread = threading.Thread(target=write)
        thread.start()
        deadline = time.monotonic() + 10
        while thread.is_alive() and time.monotonic() < deadline:
            [waiting] = watcher.execute(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                [writing.info.backend_pid],
            ).fetchone()
            if waiting:
                break
            time.sleep(0.05)
        holder.commit()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the writer still waits"
    assert not failures, failures


@pytest.mark.parametrize("first", ["initiative", "move"])
@pytest.mark.parametrize("moved", ["collectivity", "department"])
def test_a_move_while_an_initiative_is_written(committing, moved, first):
    """T1 inserts a published initiative of a collectivity while T2 moves the
    collectivity to another department, or its department to another region.
    The first to start keeps its transaction open until the other commits or
    waits for it, then commits: whichever way the lock goes, the initiative's
    tokens end up those of the move."""
    with committing() as setup, setup.cursor() as cursor:
        departments, category, _ = seed_ids(cursor)
        cursor.execute(
            "SELECT code, region_id FROM initiatives_department "
            "WHERE code IN ('13', '60')"
        )
        regions = dict(cursor.fetchall())
        cursor.execute(
            "INSERT INTO initiatives_department (code, name, region_id) "
            "VALUES ('JT', 'Jetons', %s) RETURNING id",
            [regions["13"]],
        )
        [department] = cursor.fetchone()
        collectivity = unused_collectivity_id(cursor)
        insert_collectivity(cursor, collectivity, "jetons-bains", department)
    moves = {
        "collectivity": (
            "UPDATE initiatives_collectivity SET department_id = %s WHERE id = %s",
            [departments["60"], collectivity],
            f"department:{departments['60']}",
        ),
        "department": (
            "UPDATE initiatives_department SET region_id = %s WHERE id = %s",
            [regions["60"], department],
            f"region:{regions['60']}",
        ),
    }
    statement, params, token = moves[moved]

    def write_initiative(t1):
        insert_initiative(t1.cursor(), "jetons-en-course", collectivity, category)

    def move(t2):
        t2.execute(statement, params)

    with committing() as holder:
        if first == "initiative":
            write_initiative(holder)
            commit_while_waiting(holder, move)
        else:
            move(holder)
            commit_while_waiting(holder, write_initiative)
    with committing() as reader, reader.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM initiatives_initiative WHERE slug = 'jetons-en-course'"
        )
        [initiative] = cursor.fetchone()
        tokens = assert_exact(cursor)[initiative]
    assert token in tokens


def checked():
    """Run `rebuild_facet_counts --check`; give its verdict."""
    output = StringIO()
    call_command("rebuild_facet_counts", "--check", stdout=output)
    return output.getvalue().splitlines()[0]


def test_the_check_counts_the_tokens_and_the_pairs_that_differed():
    initiative = Initiative.objects.published().first()
    token = f"department:{initiative.collectivity.department_id}"
    with connection.cursor() as cursor:
        # A token lost, the pairs untouched: only the tokens are wrong.
        cursor.execute(
            "UPDATE initiatives_facet_tokens SET tokens = array_remove(tokens, %s) "
            "WHERE initiative_id = %s",
            [token, initiative.pk],
        )
        assert checked() == (
            "Les jetons de 1 initiative(s) et 0 compte(s) de paires différaient : "
            "corrigés."
        )
        assert token in assert_exact(cursor)[initiative.pk]
        cursor.execute(
            "UPDATE initiatives_facet_pair SET count = count + 1 "
            "WHERE a = %s AND b = %s",
            [token, token],
        )
        assert checked() == (
            "Les jetons de 0 initiative(s) et 1 compte(s) de paires différaient : "
            "corrigés."
        )
    assert checked() == "Les jetons et les comptes tenus à jour étaient justes."


def test_a_rebuild_renews_the_content_version(settings):
    settings.CACHE_MIDDLEWARE_SECONDS = 300
    version = page_cache.content_version()
    call_command("rebuild_facet_counts", stdout=StringIO())
    assert page_cache.content_version() != version


@postgresql_only
def test_the_database_runs_what_the_facet_registry_declares():
    """A registry changed without its migration (`manage.py facet_migration`)
    fails here: the installed functions and triggers are those it writes."""
    with connection.cursor() as cursor:
        for function in tokens.functions():
            cursor.execute(
                "SELECT prosrc FROM pg_proc WHERE proname = %s", [function.name]
            )
            assert cursor.fetchall() == [(function.body,)], function.name
        cursor.execute(
            "SELECT tgname, tgrelid::regclass::text, pg_get_triggerdef(oid) "
            "FROM pg_trigger WHERE tgname LIKE 'initiatives\\_facets\\_%%' "
            "AND NOT tgisinternal"
        )
        installed = {
            name: (table, " ".join(sql.split())) for name, table, sql in cursor
        }
    declared = {
        trigger.name: (trigger.table, " ".join(trigger.sql.rstrip(";").split()))
        for trigger in tokens.triggers()
    }
    assert installed.keys() == declared.keys()
    for name, (table, sql) in declared.items():
        assert installed[name][0] == table, name
        assert installed[name][1].replace("public.", "") == sql, name


def test_no_facet_migration_is_missing():
    output = StringIO()
    call_command("facet_migration", "--check", stdout=output)
    assert "déjà" in output.getvalue()
