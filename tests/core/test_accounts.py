import io

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts import (
    PortalUserAdmin,
    check_staff_second_factor,
    enrol_totp,
)
from core.clients import client_ip

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
INDEX = reverse("admin:index")
PASSWORD = "motdepasse-equipe"  # tests/conftest.py's staff_user
LOCKED_OUT = "Trop de tentatives de connexion pour ce compte depuis cette adresse."
TOWN_HALL = "192.0.2.10"
REFUSED = "Identifiant, mot de passe ou code à usage unique incorrect"
ELSEWHERE = "198.51.100.20"


def current_code(device):
    return f"{TOTP(device.bin_key, digits=device.digits).token():06d}"


def log_in(client, username, password, code="", address=TOWN_HALL):
    data = {"username": username, "password": password, "otp_token": code}
    return client.post(f"{LOGIN}?next={INDEX}", data, REMOTE_ADDR=address)


def is_logged_in(response):
    return response.status_code == 302 and response.url == INDEX


@pytest.fixture
def device(staff_user):
    device, _ = enrol_totp(staff_user)
    return device


@pytest.fixture
def colleague():
    user = User.objects.create_user(
        "collegue", password="motdepasse-collegue", is_staff=True
    )
    enrol_totp(user)
    return user


def fail_five_times(username="equipe", address=TOWN_HALL):
    for _ in range(5):
        Client().post(
            LOGIN,
            {"username": username, "password": "mauvais", "otp_token": ""},
            REMOTE_ADDR=address,
        )


# Brute-force lockout


def test_sixth_attempt_is_refused_even_with_the_right_password(client, device):
    fail_five_times()
    response = log_in(client, "equipe", PASSWORD, current_code(device))
    assert response.status_code == 429
    assert LOCKED_OUT in response.text
    assert "Réessayez dans une heure" in response.text
    assert not client.session.get("_auth_user_id")


def test_lockout_spares_other_users_and_other_addresses(device, colleague):
    fail_five_times()
    colleague_code = current_code(TOTPDevice.objects.get(user=colleague))
    response = log_in(Client(), "collegue", "motdepasse-collegue", colleague_code)
    assert is_logged_in(response)
    response = log_in(Client(), "equipe", PASSWORD, current_code(device), ELSEWHERE)
    assert is_logged_in(response)


def test_administrator_unlocks_from_the_admin(staff_client, colleague):
    fail_five_times("collegue")
    attempt = AccessAttempt.objects.get(username="collegue", ip_address=TOWN_HALL)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert TOWN_HALL in staff_client.get(changelist).text
    staff_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert not AccessAttempt.objects.exists()
    code = current_code(TOTPDevice.objects.get(user=colleague))
    assert is_logged_in(log_in(Client(), "collegue", "motdepasse-collegue", code))


def test_client_ip_trusts_only_the_configured_proxies(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5"
    )
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.5"
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.1"


# Second factor


def admin_urls():
    urls = [INDEX, reverse("admin:data_quality")]
    for opts in (model._meta for model in admin.site._registry):
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    return urls


def test_every_admin_url_needs_the_second_factor(client, staff_user, verified_login):
    urls = admin_urls()
    assert reverse("admin:surveys_pendinginitiative_changelist") in urls
    client.force_login(staff_user)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(LOGIN), url
    verified_login(client, staff_user)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_login_asks_for_a_one_time_code(client):
    response = client.get(LOGIN)
    assert 'name="otp_token"' in response.text
    assert "Code à usage unique" in response.text
    assert 'autocomplete="one-time-code"' in response.text


def test_password_alone_does_not_open_the_admin(client, device):
    response = log_in(client, "equipe", PASSWORD)
    assert response.status_code == 200
    assert REFUSED in response.text
    assert PASSWORD not in response.text
    assert client.get(INDEX).status_code == 302


def error_text(response):
    return response.context["form"].non_field_errors()


def test_a_refused_login_never_says_whether_the_password_was_right(device):
    wrong_password = log_in(Client(), "equipe", "mauvais", current_code(device))
    no_code = log_in(Client(), "equipe", PASSWORD)
    wrong_code = log_in(Client(), "equipe", PASSWORD, "000000")
    backup_shape = log_in(Client(), "equipe", PASSWORD, "abcdefgh")
    unknown_user = log_in(Client(), "personne", PASSWORD, "000000")
    answers = [wrong_password, no_code, wrong_code, backup_shape, unknown_user]
    assert {response.status_code for response in answers} == {200}
    assert len({tuple(error_text(response)) for response in answers}) == 1
    assert REFUSED in error_text(wrong_password)[0]


def test_password_and_current_code_open_the_admin(client, device):
    assert is_logged_in(log_in(client, "equipe", PASSWORD, current_code(device)))
    assert client.get(INDEX).status_code == 200


def test_replayed_code_is_refused(device):
    code = current_code(device)
    assert is_logged_in(log_in(Client(), "equipe", PASSWORD, code))
    response = log_in(Client(), "equipe", PASSWORD, code)
    assert response.status_code == 200
    assert REFUSED in response.text


def test_backup_code_works_once(staff_user):
    _, codes = enrol_totp(staff_user)
    client = Client()
    assert is_logged_in(log_in(client, "equipe", PASSWORD, codes[0].upper()))
    assert client.get(INDEX).status_code == 200
    response = log_in(Client(), "equipe", PASSWORD, codes[0])
    assert REFUSED in response.text
    assert StaticToken.objects.filter(device__user=staff_user).count() == 9


def test_setup_totp_prints_the_key_and_backup_codes_once(staff_user):
    out = io.StringIO()
    call_command("setup_totp", "equipe", stdout=out)
    call_command("setup_totp", "equipe", stdout=out)  # re-enrolment replaces
    device = TOTPDevice.objects.get(user=staff_user)
    assert device.confirmed
    assert device.config_url in out.getvalue()
    codes = StaticToken.objects.filter(device__user=staff_user)
    assert codes.count() == 10
    assert all(code.token in out.getvalue() for code in codes)
    with pytest.raises(CommandError):
        call_command("setup_totp", "personne", stdout=out)


# Superuser status


@pytest.fixture
def user_manager(client, verified_login):
    user = User.objects.create_user(
        "gestion", password="motdepasse-gestion", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    verified_login(client, user)
    return user


def change_form_data(user):
    return {
        "username": user.username,
        "email": "",
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [],
        "user_permissions": [],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "01/01/2025",
        "date_joined_1": "10:00:00",
    }


def test_staff_cannot_make_themselves_or_others_superuser(client, user_manager):
    other = User.objects.create_user("stagiaire", is_staff=True)
    for user in (user_manager, other):
        url = reverse("admin:auth_user_change", args=[user.pk])
        response = client.post(url, change_form_data(user))
        assert response.status_code == 302
        user.refresh_from_db()
        assert not user.is_superuser
        assert user.user_permissions.exists() == (user == user_manager)


def test_staff_cannot_edit_a_superuser(client, user_manager, staff_user):
    url = reverse("admin:auth_user_change", args=[staff_user.pk])
    assert not client.get(url).context["has_change_permission"]  # read only
    data = {**change_form_data(staff_user), "is_staff": "", "is_superuser": ""}
    assert client.post(url, data).status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[staff_user.pk])
    assert client.get(password_url).status_code == 403


def test_saving_a_superuser_needs_a_superuser(user_manager, staff_user):
    model_admin = PortalUserAdmin(User, admin.site)
    request = RequestFactory().post("/")
    request.user = User.objects.get(pk=user_manager.pk)
    user_manager.is_superuser = True
    with pytest.raises(PermissionDenied):
        model_admin.save_model(request, user_manager, form=None, change=True)
    request.user = staff_user
    model_admin.save_model(request, user_manager, form=None, change=True)
    user_manager.refresh_from_db()
    assert user_manager.is_superuser


def test_superuser_grants_superuser_status(staff_client):
    other = User.objects.create_user("stagiaire", is_staff=True)
    url = reverse("admin:auth_user_change", args=[other.pk])
    assert staff_client.post(url, change_form_data(other)).status_code == 302
    other.refresh_from_db()
    assert other.is_superuser


# Escalation: what a member of a staff group must not reach


@pytest.fixture
def superuser_with_devices(staff_user):
    device, codes = enrol_totp(staff_user)
    return staff_user, device, codes


@pytest.fixture(params=["Éditeurs", "Administrateurs"])
def group_member(request, client, verified_login):
    group = Group.objects.get(name=request.param)
    user = User.objects.create_user("membre", password="motdepasse-membre")
    user.is_staff = True
    user.save()
    user.groups.add(group)
    verified_login(client, user)
    return user, group


def test_a_group_member_cannot_grant_permissions(
    client, group_member, superuser_with_devices
):
    user, group = group_member
    granted = Permission.objects.filter(
        content_type__app_label__in=["otp_totp", "otp_static", "axes", "auth"]
    )
    before = set(group.permissions.values_list("pk", flat=True))
    change = reverse("admin:auth_group_change", args=[group.pk])
    data = {"name": group.name, "permissions": [p.pk for p in granted]}
    assert client.post(change, data).status_code == 403
    assert set(group.permissions.values_list("pk", flat=True)) == before
    add = reverse("admin:auth_group_add")
    assert client.post(add, {"name": "Tout", "permissions": []}).status_code == 403
    assert not Group.objects.filter(name="Tout").exists()
    delete = reverse("admin:auth_group_delete", args=[group.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Group.objects.filter(pk=group.pk).exists()
    # Nor through their own account or a colleague's.
    own = reverse("admin:auth_user_change", args=[user.pk])
    data = {
        **change_form_data(user),
        "groups": [g.pk for g in Group.objects.all()],
        "user_permissions": [p.pk for p in granted],
    }
    client.post(own, data)
    user.refresh_from_db()
    assert not user.is_superuser
    assert list(user.groups.all()) == [group]
    assert not user.user_permissions.exists()


def test_a_group_member_cannot_read_second_factors_nor_lift_lockouts(
    client, group_member, superuser_with_devices
):
    superuser, device, codes = superuser_with_devices
    backup = StaticDevice.objects.get(user=superuser)
    user, group = group_member
    # Even holding these permissions (granted by mistake, or before this
    # rule), a member who is not a superuser gets nothing.
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["otp_totp", "otp_static", "axes"]
        )
    )
    fail_five_times()
    attempt = AccessAttempt.objects.get()
    forbidden = [
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        reverse("admin:otp_totp_totpdevice_config", args=[device.pk]),
        reverse("admin:otp_totp_totpdevice_qrcode", args=[device.pk]),
        reverse("admin:otp_static_staticdevice_changelist"),
        reverse("admin:otp_static_staticdevice_change", args=[backup.pk]),
        reverse("admin:axes_accessattempt_changelist"),
        reverse("admin:axes_accessattempt_change", args=[attempt.pk]),
        reverse("admin:axes_accesslog_changelist"),
        reverse("admin:axes_accessfailurelog_changelist"),
    ]
    for url in forbidden:
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert device.key not in response.text
        assert all(code not in response.text for code in codes)
    changelist = reverse("admin:axes_accessattempt_changelist")
    data = {
        "action": "delete_selected",
        "_selected_action": [attempt.pk],
        "post": "yes",
    }
    assert client.post(changelist, data).status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
    delete = reverse("admin:otp_totp_totpdevice_delete", args=[device.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    index = client.get(INDEX).text
    for label in ("otp_totp", "otp_static", "axes"):
        assert f"/admin/{label}/" not in index


def test_a_superuser_still_manages_groups_and_devices(staff_client, colleague):
    device = TOTPDevice.objects.get(user=colleague)
    group = Group.objects.get(name="Éditeurs")
    permission = Permission.objects.get(codename="view_totpdevice")
    data = {
        "name": group.name,
        "permissions": [*group.permissions.values_list("pk", flat=True), permission.pk],
    }
    change = reverse("admin:auth_group_change", args=[group.pk])
    assert staff_client.post(change, data).status_code == 302
    assert group.permissions.filter(pk=permission.pk).exists()
    url = reverse("admin:otp_totp_totpdevice_change", args=[device.pk])
    assert staff_client.get(url).status_code == 200


# System check


def test_check_warns_about_staff_without_a_second_factor(staff_user):
    User.objects.create_user("ancien", is_staff=True, is_active=False)
    [warning] = check_staff_second_factor(None, databases=["default"])
    assert warning.id == "portal.W010"
    assert "equipe" in warning.msg and "ancien" not in warning.msg
    enrol_totp(staff_user)
    assert check_staff_second_factor(None, databases=["default"]) == []


def test_check_reads_the_database_only_when_asked(staff_user):
    assert "portal.W010" not in {message.id for message in checks.run_checks()}
    found = checks.run_checks(databases=["default"], include_deployment_checks=True)
    assert "portal.W010" in {message.id for message in found}
