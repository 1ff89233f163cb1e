import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from initiatives.models import Collectivity, Initiative
from surveys.models import Submission, Survey
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

QUEUE = "/admin/surveys/pendinginitiative/"


def submitted(title="Un guichet numérique", town="62119"):
    initiative = InitiativeFactory(
        title=title, collectivity=Collectivity.objects.get(code=town)
    )
    Submission.objects.create(
        survey=Survey.objects.get(),
        initiative=initiative,
        submitter_name="Camille Martin",
        submitter_email="camille.martin@example.org",
        submitter_role="Chargée de mission",
        has_consented=True,
    )
    return initiative


def staff_in(group_name, username="redaction"):
    user = User.objects.create_user(username, password="motdepasse-solide-42")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name=group_name))
    return user


def test_roles_exist_with_their_permissions():
    editors = Group.objects.get(name="Éditeurs")
    codenames = set(editors.permissions.values_list("codename", flat=True))
    assert {"change_initiative", "add_initiative", "view_submission"} <= codenames
    assert not {"add_user", "change_user", "change_group"} & codenames
    administrators = Group.objects.get(name="Administrateurs")
    codenames = set(administrators.permissions.values_list("codename", flat=True))
    assert {"change_user", "delete_initiative", "change_group"} <= codenames


def test_admin_index_counts_waiting_initiatives(staff_client):
    submitted()
    submitted("Une autre idée")
    response = staff_client.get("/admin/")
    assert "2 initiatives en attente de décision" in response.text


def test_queue_lists_submitted_initiatives_only(staff_client):
    waiting = submitted()
    response = staff_client.get(QUEUE)
    listed = list(response.context["cl"].result_list)
    assert listed == [waiting]


def test_preview_shows_the_public_page_to_staff_only(staff_client):
    initiative = submitted()
    url = reverse("admin:surveys_pendinginitiative_preview", args=[initiative.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "Aperçu" in response.text and initiative.title in response.text
    assert "camille.martin" not in response.text
    assert Client().get(url).status_code == 302


def test_publish_from_the_queue_makes_it_public(client, staff_client, staff_user):
    initiative = submitted()
    staff_client.post(QUEUE, {"action": "publish", "_selected_action": [initiative.pk]})
    initiative.refresh_from_db()
    assert initiative.is_published and initiative.published_at
    submission = initiative.submission
    assert submission.reviewed_by == staff_user and submission.reviewed_at
    assert client.get(initiative.get_absolute_url()).status_code == 200
    api = client.get("/api/v1/initiatives/", {"q": "guichet"}).json()
    assert [i["slug"] for i in api["results"]] == [initiative.slug]


def test_reject_asks_a_reason_then_keeps_it_private(client, staff_client):
    first, second = submitted(), submitted("Une idée à refuser", town="13056")
    data = {"action": "reject", "_selected_action": [first.pk, second.pk]}
    response = staff_client.post(QUEUE, data)
    assert "Motif du refus" in response.text  # the intermediate page
    assert Initiative.objects.filter(status="rejected").count() == 0
    staff_client.post(QUEUE, {**data, "reason": "Hors du champ de l'enquête."})
    for initiative in (first, second):
        initiative.refresh_from_db()
        assert initiative.status == Initiative.Status.REJECTED
        assert initiative.submission.review_note == "Hors du champ de l'enquête."
        assert client.get(initiative.get_absolute_url()).status_code == 404


def test_possible_duplicate_is_flagged(staff_client):
    existing = Initiative.objects.get(slug="beauvais-marche-primeurs-en-ligne")
    duplicate = submitted("Un marché primeur en ligne", town="60057")
    response = staff_client.get(QUEUE)
    assert existing.title in response.text
    change = staff_client.get(
        reverse("admin:surveys_pendinginitiative_change", args=[duplicate.pk]),
        follow=True,
    )
    assert "Doublon possible" in change.text
    other = submitted("Une chose sans rapport", town="60057")
    assert Initiative.objects.similar_to(other) == []


def test_history_records_who_when_what_and_the_public_changelog_hides_who(
    client, staff_client, staff_user
):
    initiative = Initiative.objects.get(slug="beauvais-marche-primeurs-en-ligne")
    url = reverse("admin:initiatives_initiative_change", args=[initiative.pk])
    data = staff_client.get(url).context["adminform"].form.initial
    form = {
        key: value
        for key, value in data.items()
        if value is not None and key not in {"image", "search_vector"}
    }
    form.update(
        title=initiative.title,
        summary="Un résumé corrigé par l'équipe.",
        themes=[t.pk for t in initiative.themes.all()],
        vigilance_points=[],
        collectivity=initiative.collectivity_id,
        category=initiative.category_id,
        survey=initiative.survey_id,
        started_on="",
        ended_on="",
    )
    response = staff_client.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = initiative.history.latest()
    assert latest.history_user == staff_user
    assert latest.summary == "Un résumé corrigé par l'équipe."
    history_url = reverse("admin:initiatives_initiative_history", args=[initiative.pk])
    history = staff_client.get(history_url)
    assert history.status_code == 200 and staff_user.username in history.text
    page = client.get(initiative.get_absolute_url()).text
    assert "Historique de la fiche" in page and "résumé" in page
    assert staff_user.username not in page
    assert staff_client.get(url + "history/").status_code == 404


def test_anonymous_and_non_staff_cannot_reach_the_admin(client, django_user_model):
    assert client.get(QUEUE).status_code == 302
    django_user_model.objects.create_user("habitant", password="motdepasse-solide-42")
    client.force_login(User.objects.get(username="habitant"))
    response = client.get(QUEUE)
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_editor_moderates_but_cannot_manage_users(client, verified_login):
    editor = staff_in("Éditeurs")
    verified_login(client, editor)
    assert client.get(QUEUE).status_code == 200
    assert client.get("/admin/initiatives/initiative/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/auth/user/add/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403


def test_administrator_manages_users(client, verified_login):
    verified_login(client, staff_in("Administrateurs", "direction"))
    assert client.get("/admin/auth/user/").status_code == 200


def csv_file(rows):
    header = (
        "collectivity_code,title,summary,description,category,themes,"
        "vigilance_points,period,website,submitter_name,submitter_email,"
        "submitter_role,consent\n"
    )
    return SimpleUploadedFile("reponses.csv", (header + rows).encode("utf-8"))


GOOD = (
    "62119,Une borne d'accès aux droits,Une borne en mairie.,Une borne.,"
    "cohesion-sociale,solidarite-numerique,,lockdown2,,Léa Roux,lea@example.org,"
    "DGS,oui\n"
    "2A004,Des tablettes pour les aînés,Des tablettes.,Des tablettes prêtées.,"
    "cohesion-sociale,solidarite-numerique|lien-de-proximite,,unknown,,,,,oui\n"
)
BAD = (
    "99999,Code inconnu,Résumé.,Description.,cohesion-sociale,culture,,unknown,"
    ",,,,oui\n"
    "62119,Sans accord,Résumé.,Description.,economie-locale,theme-inconnu,,"
    "unknown,,,,,non\n"
)


def import_csv(staff_client, rows, dry_run):
    data = {"survey": Survey.objects.get().pk, "file": csv_file(rows)}
    if dry_run:
        data["dry_run"] = "on"
    return staff_client.post("/admin/surveys/submission/importer/", data)


def test_import_dry_run_shows_rows_and_errors_and_saves_nothing(staff_client):
    before = Initiative.objects.count()
    response = import_csv(staff_client, GOOD + BAD, dry_run=True)
    result = response.context["result"]
    assert [row.number for row in result.rows] == [2, 3, 4, 5]
    assert result.error_count == 2
    assert "serait créée" in response.text
    assert "aucune collectivité n&#x27;a le code officiel « 99999 »" in response.text
    assert "theme-inconnu" in response.text
    assert Initiative.objects.count() == before


def test_import_is_all_or_nothing(staff_client):
    before = (Initiative.objects.count(), Submission.objects.count())
    import_csv(staff_client, GOOD + BAD, dry_run=False)
    assert (Initiative.objects.count(), Submission.objects.count()) == before
    response = import_csv(staff_client, GOOD, dry_run=False)
    assert "2 proposition(s) importée(s)" in response.text
    created = Initiative.objects.filter(
        title__in=["Une borne d'accès aux droits", "Des tablettes pour les aînés"]
    )
    assert created.count() == 2
    assert set(created.values_list("status", flat=True)) == {"submitted"}
    tablets = created.get(collectivity__code="2A004")
    assert {t.slug for t in tablets.themes.all()} == {
        "solidarite-numerique",
        "lien-de-proximite",
    }


def test_import_refuses_a_file_that_is_not_utf8(staff_client):
    data = {
        "survey": Survey.objects.get().pk,
        "file": SimpleUploadedFile("x.csv", "é".encode("latin-1") * 10),
        "dry_run": "on",
    }
    response = staff_client.post("/admin/surveys/submission/importer/", data)
    assert "pas en UTF-8" in response.text


def test_import_page_answers(staff_client):
    response = staff_client.get("/admin/surveys/submission/importer/")
    assert response.status_code == 200 and "Essai à blanc" in response.text
