import io
from base64 import b32encode

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.accounts import enrol_totp

try:
    import qrcode
except ImportError:  # the QR code is a convenience: the URL and the key suffice
    qrcode = None


class Command(BaseCommand):
    help = (
        "Enrôle un membre de l'équipe pour la double authentification de "
        "l'administration : crée la clé de son application d'authentification "
        "(affichée en lien otpauth:// et en QR code) et dix codes de secours à "
        "usage unique, affichés une seule fois. Remplace ceux qu'il avait déjà."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="Identifiant du compte.")

    def handle(self, *args, username, **options):
        user_model = get_user_model()
        try:
            user = user_model.objects.get_by_natural_key(username)
        except user_model.DoesNotExist as error:
            raise CommandError(f"Aucun compte « {username} ».") from error
        device, codes = enrol_totp(user)
        self.stdout.write(
            f"Ajoutez ce compte à l'application d'authentification de {username} "
            "(FreeOTP, Aegis, Google Authenticator…) :"
        )
        if qrcode is not None:
            image = qrcode.QRCode(border=1)
            image.add_data(device.config_url)
            drawing = io.StringIO()
            image.print_ascii(out=drawing, invert=True)
            self.stdout.write(drawing.getvalue())
        self.stdout.write(device.config_url)
        self.stdout.write(
            f"Clé à saisir à la main : {b32encode(device.bin_key).decode()}"
        )
        self.stdout.write(
            "\nCodes de secours, chacun utilisable une fois : à conserver hors "
            "ligne, ils ne seront plus affichés."
        )
        for code in codes:
            self.stdout.write(f"  {code}")
        if not user.is_staff:
            self.stdout.write(
                self.style.WARNING(
                    f"{username} n'est pas membre de l'équipe : l'administration "
                    "lui restera fermée."
                )
            )
