from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from initiatives.quality import find_problems


class Command(BaseCommand):
    help = (
        "Vérifie chaque collectivité et chaque initiative : code officiel inconnu "
        "ou différent de la géographie de référence, département incohérent avec "
        "le code INSEE, label hors des valeurs permises, initiative publiée sans "
        "thème, image sans texte alternatif. Liste chaque problème avec le lien "
        "pour le corriger dans l'administration."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fail",
            action="store_true",
            help="Sortir en erreur (code 1) si un problème est trouvé.",
        )

    def handle(self, *args, fail, **options):
        problems = find_problems()
        for problem in problems:
            url = settings.SITE_URL + problem.url
            self.stdout.write(f"[{problem.kind}] {problem.message} — {url}")
        if not problems:
            self.stdout.write(self.style.SUCCESS("Aucun problème."))
            return
        self.stdout.write(self.style.WARNING(f"{len(problems)} problème(s)"))
        if fail:
            raise CommandError("Des problèmes de qualité des données sont à corriger.")
