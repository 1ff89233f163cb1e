"""Staff accounts: the admin's login form with a second factor, enrolment, the user
admin that keeps superuser status out of staff's reach, and a system check.

Brute-force lockout is django-axes' (settings `AXES_*`); `client_ip` tells it who the
client is behind a reverse proxy.
"""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODE_COUNT = 10
# Backup codes are eight characters: a six-digit code can only be the app's.
TOTP_DIGITS = 6


def client_ip(request) -> str | None:
    """Return the client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT
    proxies the address the outermost one saw, the only one a client can't forge."""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [
        address.strip()
        for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if address.strip()
    ]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


class OTPLoginForm(OTPAdminAuthenticationForm):
    """The admin login: password, then a code from the authenticator app or a backup
    code, in one step. The code's shape picks the device, so a backup code never
    counts as a failed attempt against the app, nor the reverse."""

    otp_token = forms.CharField(
        label="Code à usage unique",
        required=False,
        help_text=(
            "Les six chiffres affichés par votre application d'authentification, "
            "ou l'un de vos codes de secours."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )
    otp_device = None
    otp_challenge = None

    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": "Saisissez le code à usage unique.",
        "invalid_token": "Ce code est incorrect ou a déjà servi.",
        "device_required": (
            "Aucun second facteur de ce type n'est enregistré pour ce compte : "
            "demandez à un administrateur de vous en créer un."
        ),
        "n_failed_attempts": (
            "Trop de codes incorrects (%(failure_count)d) : la vérification est "
            "suspendue quelques instants, réessayez ensuite."
        ),
        "verification_not_allowed": "La vérification des codes est suspendue.",
    }

    def clean_otp_token(self):
        return "".join(self.cleaned_data["otp_token"].split()).lower()

    def _chosen_device(self, user):
        token = self.cleaned_data.get("otp_token", "")
        is_totp = token.isdigit() and len(token) == TOTP_DIGITS
        device_class = TOTPDevice if is_totp else StaticDevice
        # Locked like django-otp's own lookup, so throttling counts every attempt.
        devices = device_class.objects.devices_for_user(user, confirmed=True)
        return devices.select_for_update().first()

    def _update_form(self, user):
        # django-otp would list the devices and send the password back in the
        # page for a second step; one step needs neither.
        pass


def enrol_totp(user) -> tuple[TOTPDevice, list[str]]:
    """Give a user a new authenticator device and new backup codes, replacing any
    they had; return the device (its `config_url` goes into the app) and the codes."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(
            user=user,
            name="Application d'authentification",
            digits=TOTP_DIGITS,
            confirmed=True,
        )
        backup = StaticDevice.objects.create(
            user=user, name="Codes de secours", confirmed=True
        )
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create(
            StaticToken(device=backup, token=code) for code in codes
        )
    return device, codes


class PortalUserAdmin(UserAdmin):
    """Django's user admin, where only a superuser grants rights: others see
    superuser status, groups and permissions read-only and can't edit a superuser."""

    PRIVILEGE_FIELDS = ("is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return (*readonly, *self.PRIVILEGE_FIELDS)

    def has_change_permission(self, request, obj=None):
        # Resetting a superuser's password would be a way to become one.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # The form already hides the field; this guards every other way in.
        if obj.is_superuser and not request.user.is_superuser:
            was_superuser = (
                change
                and type(obj).objects.filter(pk=obj.pk, is_superuser=True).exists()
            )
            if not was_superuser:
                raise PermissionDenied
        super().save_model(request, obj, form, change)


def replace_user_admin(site) -> None:
    """Swap django.contrib.auth's user admin for ours, once admin modules are loaded."""
    user_model = get_user_model()
    site.unregister(user_model)
    site.register(user_model, PortalUserAdmin)


@checks.register(checks.Tags.security, checks.Tags.database)
def check_staff_second_factor(app_configs, databases=None, **kwargs):
    """Warn about active staff without a confirmed authenticator: they can't open
    the admin, and someone may be tempted to weaken the login for them.

    Tagged `database`, it runs only when asked to read the database, as Django's
    own database checks (`manage.py check --database default`, `migrate`)."""
    if not databases:
        return []
    try:
        usernames = list(
            get_user_model()
            .objects.filter(is_active=True, is_staff=True)
            .exclude(totpdevice__confirmed=True)
            .order_by("username")
            .values_list("username", flat=True)
        )
    except DatabaseError:  # tables not migrated yet
        return []
    if not usernames:
        return []
    return [
        checks.Warning(
            "Active staff accounts without a confirmed TOTP device: "
            + ", ".join(usernames),
            hint="Enrol them with `manage.py setup_totp <username>`, "
            "or deactivate them.",
            id="portal.W010",
        )
    ]
