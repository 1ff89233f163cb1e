"""Fill the bench database with N synthetic initiatives: `python bench/generate.py
[N]` (default 100 000). Creates, migrates and seeds `portal_bench_<N>`, then
writes the initiatives with COPY in batches (each batch, with its themes and
vigilance points, in one transaction). Resumable: a batch already written is
skipped; a database already holding N synthetic initiatives is left as it is.
The `search_vector` (migration 0004) and the facet pairs (migration 0006) are
kept by PostgreSQL triggers during the COPY: the time printed includes them.
"""

import argparse
import datetime
import random
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from common import ID_BASE, bench_env, connect, database, ensure_database, manage
from psycopg import sql

BATCH = 20_000
DEFAULT_SIZE = 100_000
# Share of each status; "published" must stay the large majority.
STATUSES = [("published", 92), ("submitted", 5), ("rejected", 2), ("archived", 1)]
PERIODS = ["lockdown1", "lockdown2", "lockdown3", "lockdowns", "crisis", "unknown"]
OUTCOMES = ["continued", "permanent", "stopped", "unknown"]
EPOCH = datetime.datetime(2020, 3, 1, tzinfo=datetime.UTC)

SERVICES = [  # with their article: "la commune a mis en place une plateforme…"
    "une plateforme de télétravail",
    "un marché de producteurs en ligne",
    "un guichet numérique",
    "une permanence téléphonique",
    "une carte des commerces ouverts",
    "un click and collect des commerçants",
    "un prêt d'ordinateurs portables",
    "une retransmission en direct du conseil municipal",
    "une application de covoiturage solidaire",
    "une visite virtuelle du musée",
    "un atelier d'inclusion numérique",
    "un soutien scolaire en visioconférence",
    "un réseau d'entraide entre voisins",
    "une lettre d'information par SMS",
    "une prise de rendez-vous en ligne",
    "une médiathèque numérique",
    "un espace de coworking municipal",
    "une consultation citoyenne en ligne",
    "un service de téléconsultation médicale",
    "un portail des associations",
]
AUDIENCES = [
    "les aînés isolés",
    "les commerçants du centre-ville",
    "les agents municipaux",
    "les familles",
    "les collégiens",
    "les demandeurs d'emploi",
    "les associations",
    "les producteurs locaux",
    "les personnes fragiles",
    "tous les habitants",
]
VERBS = ["Lancement", "Mise en place", "Création", "Ouverture"]
SENTENCES = [
    "Dès le premier confinement, la commune a mis en place {service} pour {audience}.",
    "Le service a été conçu en quelques jours avec les agents du service "
    "informatique et des bénévoles.",
    "Les habitants pouvaient s'inscrire en ligne ou par téléphone auprès de la mairie.",
    "Plus de {number} personnes l'ont utilisé pendant la crise sanitaire.",
    "Le dispositif a été relayé par la presse locale, les réseaux sociaux et le "
    "bulletin municipal.",
    "Une attention particulière a été portée à l'accessibilité et à la protection "
    "des données personnelles.",
    "Le télétravail des agents a été organisé grâce à des ordinateurs portables et "
    "à un accès sécurisé au réseau de la collectivité.",
    "Les élus souhaitent pérenniser l'initiative après la crise.",
    "Des médiateurs numériques ont accompagné les publics éloignés du numérique.",
    "La collectivité a travaillé avec l'intercommunalité et les communes voisines.",
    "Le coût du projet, environ {number} euros, a été pris en charge par le budget "
    "communal.",
    "Un bilan a été présenté en conseil municipal à l'automne.",
    "Les commerçants ont pu continuer à vendre leurs produits malgré la fermeture "
    "des boutiques.",
    "La plateforme reposait sur un logiciel libre hébergé en France.",
    "Les usagers ont salué la simplicité du service et sa disponibilité.",
    "Les écoles ont reçu des tablettes pour assurer la continuité pédagogique.",
]
# Rows that mention télétravail (about one in twenty): the bench's search term.
TELEWORK = "Le télétravail est devenu la règle pour une partie des services."


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore")
    words = "".join(
        c if c.isalnum() else " " for c in ascii_text.decode().lower()
    ).split()
    return "-".join(words)[:150]


def load_references(connection) -> dict:
    """Read the seeded geography and the publication's lists."""

    def ids(sql):
        return [row[0] for row in connection.execute(sql)]

    places = connection.execute(
        "SELECT id, name, department_id, coalesce(population, 0), kind "
        "FROM initiatives_collectivity"
    ).fetchall()
    return {
        "places": places,
        "categories": ids("SELECT id FROM initiatives_category ORDER BY id"),
        "themes": ids("SELECT id FROM initiatives_theme ORDER BY id"),
        "vigilance": ids("SELECT id FROM vigilance_vigilancepoint ORDER BY id"),
    }


def pick_places(references: dict, size: int, rng: random.Random) -> list[tuple]:
    """Draw `size` collectivities: one per department first, then communes
    weighted by the square root of their population (big towns act more, but
    small ones too), intercommunalities one time in ten."""
    places = references["places"]
    communes = [p for p in places if p[4] == "commune"]
    groupings = [p for p in places if p[4] != "commune"]
    by_department = {}
    for place in communes:
        by_department.setdefault(place[2], []).append(place)
    chosen = [rng.choice(group) for group in by_department.values()]
    weights = [max(p[3], 1) ** 0.5 for p in communes]
    remaining = size - len(chosen)
    from_groupings = remaining // 10
    chosen += rng.choices(communes, weights, k=remaining - from_groupings)
    chosen += rng.choices(groupings, k=from_groupings)
    rng.shuffle(chosen)
    return chosen


def where(place: tuple) -> str:
    """Say where an initiative took place, as a title ends: "à Lyon", "au
    Havre", "aux Mureaux", or the intercommunality's name in brackets."""
    name, kind = place[1], place[4]
    if kind != "commune":
        return f"({name})"
    if name.startswith("Le "):
        return f"au {name[3:]}"
    if name.startswith("Les "):
        return f"aux {name[4:]}"
    return f"à {name}"


def description(rng: random.Random, service: str, audience: str) -> str:
    count = rng.randint(4, 11)
    sentences = rng.sample(SENTENCES, count)
    if rng.random() < 0.05:
        sentences.insert(1, TELEWORK)
    text = " ".join(sentences).format(
        service=service, audience=audience, number=rng.choice([40, 150, 800, 2500])
    )
    return text


def rows(start: int, stop: int, places: list[tuple], references: dict):
    """Yield (initiative row, theme ids, vigilance ids) for numbers [start, stop)."""
    rng = random.Random(start)
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    for number in range(start, stop):
        place = places[number]
        service, audience = rng.choice(SERVICES), rng.choice(AUDIENCES)
        title = f"{rng.choice(VERBS)} d'{service} pour {audience} {where(place)}"
        title = title[:200]
        summary = (
            f"{place[1]} a proposé {service} pour {audience} pendant la crise "
            "sanitaire."
        )[:300]
        created = EPOCH + datetime.timedelta(minutes=rng.randint(0, 1_500_000))
        status = rng.choice(statuses)
        published = created + datetime.timedelta(days=rng.randint(0, 30))
        started = ended = None
        if rng.random() < 0.4:
            started = created.date() - datetime.timedelta(days=rng.randint(0, 60))
            if rng.random() < 0.5:
                ended = started + datetime.timedelta(days=rng.randint(10, 400))
        row = (
            ID_BASE + number,
            title,
            f"{slugify(title)}-{number}",
            place[0],
            rng.choice(references["categories"]),
            summary,
            description(rng, service, audience),
            "",
            "",
            "",
            "",
            rng.choice(PERIODS),
            started,
            ended,
            rng.choice(OUTCOMES),
            rng.random() < 0.01,
            status,
            "Données synthétiques du banc de performance.",
            published if status in ("published", "archived") else None,
            created,
            published,
        )
        themes = rng.sample(references["themes"], rng.choice([1, 1, 2, 2, 3]))
        vigilance = rng.sample(references["vigilance"], rng.choice([0, 0, 1, 1, 2]))
        yield row, themes, vigilance


COLUMNS = (
    "id, title, slug, collectivity_id, category_id, summary, description, results, "
    "website, image, image_alt, period, started_on, ended_on, outcome, is_featured, "
    "status, source_note, published_at, created_at, updated_at"
)


def write_batch(connection, start, stop, places, references) -> None:
    with connection.transaction(), connection.cursor() as cursor:
        themes, vigilance = [], []
        with cursor.copy(f"COPY initiatives_initiative ({COLUMNS}) FROM STDIN") as copy:
            for row, theme_ids, vigilance_ids in rows(start, stop, places, references):
                copy.write_row(row)
                themes += [(row[0], theme) for theme in theme_ids]
                vigilance += [(row[0], point) for point in vigilance_ids]
        with cursor.copy(
            "COPY initiatives_initiative_themes (initiative_id, theme_id) FROM STDIN"
        ) as copy:
            for pair in themes:
                copy.write_row(pair)
        with cursor.copy(
            "COPY initiatives_initiative_vigilance_points "
            "(initiative_id, vigilancepoint_id) FROM STDIN"
        ) as copy:
            for pair in vigilance:
                copy.write_row(pair)


def generate(size: int) -> dict:
    """Make sure the bench database holds `size` synthetic initiatives; return
    what was done and how long it took."""
    started = time.monotonic()
    report = {"size": size}
    created = ensure_database(size)
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        env = bench_env(Path(tmp), size)
        log = Path(tmp) / "prepare.log"
        print(f"Base {database(size)} :", "créée" if created else "existante")
        try:
            manage(env, "migrate", "--noinput", log=log)
            manage(env, "createcachetable", log=log)
            manage(env, "load_seed", log=log)
        except Exception:
            print(log.read_text()[-3000:])
            raise
    report["prepare_s"] = round(time.monotonic() - started, 1)
    with connect(size, autocommit=True) as connection:
        done = connection.execute(
            "SELECT count(*) FROM initiatives_initiative WHERE id >= %s", [ID_BASE]
        ).fetchone()[0]
        if done > size:
            print(
                f"{done} initiatives synthétiques : plus que {size}, on repart à zéro"
            )
            with connection.transaction():
                for table in ("themes", "vigilance_points"):
                    name = sql.Identifier(f"initiatives_initiative_{table}")
                    connection.execute(
                        sql.SQL("DELETE FROM {} WHERE initiative_id >= %s").format(
                            name
                        ),
                        [ID_BASE],
                    )
                connection.execute(
                    "DELETE FROM initiatives_initiative WHERE id >= %s", [ID_BASE]
                )
            done = 0
        if done == size:
            print(f"{size} initiatives synthétiques déjà présentes : rien à générer")
            report["generated"] = 0
            return report
        # Batches commit whole: a partial one never exists, so resume from `done`.
        done -= done % BATCH
        references = load_references(connection)
        places = pick_places(references, size, random.Random(size))
        print(f"Génération de {size - done} initiatives (COPY, lots de {BATCH})")
        copy_started = time.monotonic()
        for start in range(done, size, BATCH):
            stop = min(start + BATCH, size)
            batch_started = time.monotonic()
            write_batch(connection, start, stop, places, references)
            rate = (stop - start) / (time.monotonic() - batch_started)
            print(f"  {stop:>9} / {size}  ({rate:,.0f} lignes/s)", flush=True)
        report["generated"] = size - done
        report["copy_s"] = round(time.monotonic() - copy_started, 1)
        analyze_started = time.monotonic()
        connection.execute("VACUUM ANALYZE")
        report["analyze_s"] = round(time.monotonic() - analyze_started, 1)
    report["total_s"] = round(time.monotonic() - started, 1)
    print(
        f"Écrit en {report['copy_s']} s (déclencheurs de recherche et de facettes "
        "compris), "
        f"VACUUM ANALYZE {report['analyze_s']} s, total {report['total_s']} s"
    )
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, default=DEFAULT_SIZE)
    generate(parser.parse_args().size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
