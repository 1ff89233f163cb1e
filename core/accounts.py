"""Staff accounts: the admin's login form with a second factor, enrolment, the user
and group admins that keep rights out of staff's reach, the superuser-only admins
of second factors and lockouts, and a system check.

Brute-force lockout is django-axes' (settings `AXES_*`); `core.clients.client_ip`
tells it who the client is behind a reverse proxy.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODE_COUNT = 10
# Backup codes are eight characters: a six-digit code can only be the app's.
TOTP_DIGITS = 6


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

    # One answer to every refused login: a right password with a wrong or
    # missing code must not read differently from a wrong password.
    error_messages = {
        **OTPAdminAuthenticationForm.error_messages,
        "invalid_login": (
            "Identifiant, mot de passe ou code à usage unique incorrect (un "
            "code ne sert qu'une fois). Vérifiez les trois champs, les "
            "majuscules comprises, puis réessayez."
        ),
    }

    def clean_otp(self, user):
        try:
            super().clean_otp(user)
        except forms.ValidationError as error:
            raise forms.ValidationError(
                self.error_messages["invalid_login"], code="invalid_login"
            ) from error

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


class SuperuserOnlyAdmin:
    """An admin that only superusers see or use: second-factor devices and
    backup codes (reading them is logging in as their owner), lockout records
    (deleting them lifts the brute-force protection)."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class PortalGroupAdmin(GroupAdmin):
    """Groups and their permissions: staff may read them, only a superuser
    creates, changes or deletes one (a group's permissions are its members')."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


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


# Models whose admin only superusers may open, by "app_label.model".
SUPERUSER_ONLY = [
    "otp_totp.totpdevice",
    "otp_static.staticdevice",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
]


def secure_admin(site) -> None:
    """Once admin modules are loaded, swap django.contrib.auth's user and group
    admins for ours, and keep the SUPERUSER_ONLY models to superusers."""
    site.unregister(get_user_model())
    site.register(get_user_model(), PortalUserAdmin)
    site.unregister(Group)
    site.register(Group, PortalGroupAdmin)
    for model, model_admin in list(site._registry.items()):
        if model._meta.label_lower in SUPERUSER_ONLY:
            site.unregister(model)
            restricted = type(
                f"SuperuserOnly{type(model_admin).__name__}",
                (SuperuserOnlyAdmin, type(model_admin)),
                {},
            )
            site.register(model, restricted)


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
