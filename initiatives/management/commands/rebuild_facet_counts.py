from django.core.management.base import BaseCommand
from django.db import connection


class Command(BaseCommand):
    help = (
        "Recompte entièrement les facettes du catalogue (PostgreSQL). Les "
        "déclencheurs les tiennent à jour à chaque modification : ce recomptage "
        "ne sert qu'après une intervention directe sur les tables, ou pour "
        "vérifier qu'ils sont justes (--check)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Comparer d'abord les comptes tenus à jour avec un recomptage "
            "complet et dire s'ils différaient.",
        )

    def handle(self, *args, check, **options):
        if connection.vendor != "postgresql":
            self.stdout.write(
                "Rien à faire : hors PostgreSQL, les facettes sont comptées à "
                "chaque demande."
            )
            return
        with connection.cursor() as cursor:
            before = self.snapshot(cursor) if check else None
            cursor.execute("SELECT initiatives_rebuild_facets()")
            if check:
                after = self.snapshot(cursor)
                differences = len(before ^ after)
                if differences:
                    self.stdout.write(
                        self.style.WARNING(
                            f"{differences} compte(s) différaient : corrigés."
                        )
                    )
                else:
                    self.stdout.write("Les comptes tenus à jour étaient justes.")
            cursor.execute("SELECT count(*) FROM initiatives_facet_pair")
            pairs = cursor.fetchone()[0]
        self.stdout.write(self.style.SUCCESS(f"Facettes recomptées ({pairs} paires)."))

    @staticmethod
    def snapshot(cursor):
        cursor.execute("SELECT a, b, count FROM initiatives_facet_pair WHERE count > 0")
        return set(cursor.fetchall())
