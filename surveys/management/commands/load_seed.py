from django.core.management.base import BaseCommand

from surveys.imports import load_seed


class Command(BaseCommand):
    help = (
        "Charge la géographie officielle et les données de la publication (enquête, "
        "thèmes, chiffres clés, points de vigilance, initiatives). Idempotent : une "
        "seconde exécution ne change rien."
    )

    def handle(self, *args, **options):
        report = load_seed()
        for line in report.lines():
            self.stdout.write(line)
        if report.is_empty:
            self.stdout.write(self.style.SUCCESS("Rien à changer : tout est à jour."))
        else:
            self.stdout.write(self.style.SUCCESS("Données chargées."))
