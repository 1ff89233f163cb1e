from django.core.management.base import BaseCommand
from django.db import connection, transaction

from core import page_cache

# The locks initiatives_rebuild_facets() takes, taken first so that the
# tokens and counts compared are those it replaces.
LOCKS = """
LOCK TABLE initiatives_initiative IN SHARE MODE;
LOCK TABLE initiatives_facet_pair, initiatives_facet_tokens IN EXCLUSIVE MODE;
"""
# The initiatives whose tokens, as a set, differ from those kept before.
TOKENS_DIFFERING = """
SELECT count(*) FROM facet_tokens_kept AS kept
FULL JOIN initiatives_facet_tokens AS rebuilt USING (initiative_id)
WHERE kept.tokens IS NULL OR rebuilt.tokens IS NULL
  OR NOT (kept.tokens @> rebuilt.tokens AND rebuilt.tokens @> kept.tokens)
"""


class Command(BaseCommand):
    help = (
        "Recompte entièrement les facettes du catalogue (PostgreSQL) : les jetons "
        "de chaque initiative publiée et les effectifs de chaque paire de jetons. "
        "Les déclencheurs les tiennent à jour à chaque modification : ce "
        "recomptage ne sert qu'après une intervention directe sur les tables, ou "
        "pour vérifier qu'ils sont justes (--check)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Comparer d'abord les jetons et les comptes tenus à jour avec un "
            "recomptage complet et dire combien différaient.",
        )

    def handle(self, *args, check, **options):
        if connection.vendor != "postgresql":
            self.stdout.write(
                "Rien à faire : hors PostgreSQL, les facettes sont comptées à "
                "chaque demande."
            )
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(LOCKS)
            if check:
                cursor.execute(
                    "CREATE TEMPORARY TABLE facet_tokens_kept AS "
                    "SELECT initiative_id, tokens FROM initiatives_facet_tokens"
                )
                before = self.pairs(cursor)
            cursor.execute("SELECT initiatives_rebuild_facets()")
            if check:
                cursor.execute(TOKENS_DIFFERING)
                tokens = cursor.fetchone()[0]
                cursor.execute("DROP TABLE facet_tokens_kept")
                after = self.pairs(cursor)
                counts = sum(
                    before.get(pair, 0) != after.get(pair, 0)
                    for pair in before.keys() | after.keys()
                )
            cursor.execute("SELECT count(*) FROM initiatives_facet_pair")
            pairs = cursor.fetchone()[0]
        # The pages and the API's data are cached under the content version:
        # the rebuilt counts and tokens must show now, not when they expire.
        if page_cache.is_enabled():
            page_cache.bump_content_version()
        if check and (tokens or counts):
            self.stdout.write(
                self.style.WARNING(
                    f"Les jetons de {tokens} initiative(s) et {counts} compte(s) "
                    "de paires différaient : corrigés."
                )
            )
        elif check:
            self.stdout.write("Les jetons et les comptes tenus à jour étaient justes.")
        self.stdout.write(self.style.SUCCESS(f"Facettes recomptées ({pairs} paires)."))

    @staticmethod
    def pairs(cursor):
        """Read the count of each pair of tokens (one query)."""
        cursor.execute("SELECT a, b, count FROM initiatives_facet_pair WHERE count > 0")
        return {(a, b): count for a, b, count in cursor.fetchall()}
