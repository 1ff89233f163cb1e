import datetime

from django.conf import settings
from django.core.management.base import BaseCommand

from surveys.submissions import purge_contacts


class Command(BaseCommand):
    help = (
        "Efface les données de contact (nom, courriel, fonction) des propositions "
        "plus anciennes que la durée de conservation (3 ans par défaut, réglage "
        "CONTACT_RETENTION_DAYS), les images de celles qui n'ont jamais été "
        "publiées et les courriels de cet âge."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.CONTACT_RETENTION_DAYS,
            help="Durée de conservation en jours (par défaut : %(default)s).",
        )

    def handle(self, *args, days, **options):
        count = purge_contacts(datetime.timedelta(days=days))
        self.stdout.write(
            self.style.SUCCESS(
                f"{count} proposition(s) de plus de {days} jours anonymisée(s)."
            )
        )
