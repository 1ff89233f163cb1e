import datetime
import io
import os
import re
import tempfile
import time
from smtplib import SMTPException

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from core import images
from core.images import MESSAGES
from core.models import Mail
from initiatives.models import Category, Initiative, Theme
from surveys import submissions
from surveys.forms import FORM_TOKEN_MAX_AGE, form_token
from surveys.models import Submission, Survey
from tests.core.test_images import HOSTILE

pytestmark = pytest.mark.django_db

URL = "/proposer/"
NO_WAIT = override_settings(SUBMISSION_MIN_SECONDS=0)


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise SMTPException("mail server down")


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()


def answer(**changes):
    data = {
        "collectivity_query": "Béthune",
        "collectivity_code": "",
        "title": "Un guichet numérique de quartier",
        "summary": "Un guichet pour aider aux démarches en ligne.",
        "description": "Des agents accompagnent les habitants.",
        "category": "cohesion-sociale",
        "themes": ["solidarite-numerique"],
        "vigilance_points": [],
        "period": "lockdown2",
        "website": "",
        "image_alt": "",
        "submitter_name": "Camille Martin",
        "submitter_email": "camille.martin@example.org",
        "submitter_role": "Chargée de mission numérique",
        "has_consented": "on",
        "fax_number": "",
        "started": form_token(),
    }
    data.update(changes)
    return data


def post(client, data, **extra):
    """Send the form as a browser would: categories and themes by primary key."""
    data = dict(data)
    data["category"] = Category.objects.get(slug=data["category"]).pk
    data["themes"] = [Theme.objects.get(slug=slug).pk for slug in data["themes"]]
    return client.post(URL, data, **extra)


def stored():
    return Initiative.objects.count(), Submission.objects.count()


def media_files():
    root = settings.MEDIA_ROOT
    return (
        sorted(
            os.path.join(folder, name)
            for folder, _, names in os.walk(root)
            for name in names
        )
        if os.path.isdir(root)
        else []
    )


@pytest.fixture
def private_temp(tmp_path, monkeypatch):
    """A temporary directory of the test's own as the process's default one:
    what the upload leaves behind is seen there, whatever other processes do
    in the system's."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_form_page_is_accessible_and_explains_privacy(client):
    response = client.get(URL)
    assert response.status_code == 200
    text = response.text
    assert 'for="id_collectivity_query"' in text and 'for="id_has_consented"' in text
    assert "ne sont jamais publiées" in text and reverse("privacy") in text
    assert 'name="csrfmiddlewaretoken"' in text


@NO_WAIT
def test_submission_is_saved_unpublished_with_private_contact(client, run_tasks):
    before = stored()
    response = post(client, answer())
    run_tasks()
    assert response.status_code == 302 and response.url == "/proposer/merci/"
    assert stored() == (before[0] + 1, before[1] + 1)
    submission = Submission.objects.select_related("initiative").latest("pk")
    initiative = submission.initiative
    assert initiative.status == Initiative.Status.SUBMITTED
    assert initiative.collectivity.code == "62119"
    assert initiative.collectivity.department.code == "62"
    assert [t.slug for t in initiative.themes.all()] == ["solidarite-numerique"]
    assert submission.submitter_email == "camille.martin@example.org"
    assert submission.has_consented
    assert not Initiative.objects.published().filter(pk=initiative.pk).exists()
    assert client.get(initiative.get_absolute_url()).status_code == 404
    assert "Un guichet numérique" not in client.get("/initiatives/").text
    assert "Un guichet numérique" not in client.get("/api/v1/initiatives/").text
    assert [m.to for m in mail.outbox] == [["camille.martin@example.org"]]
    follow = client.get(response.url)
    assert "n'est pas encore visible" in follow.text


@NO_WAIT
@override_settings(SUBMISSION_NOTIFY_EMAILS=["equipe@example.org"])
def test_mails_are_queued_with_the_submission_and_sent_by_the_worker(client, run_tasks):
    post(client, answer())
    assert mail.outbox == []  # the request sends nothing
    submission = Submission.objects.latest("pk")
    queued = Mail.objects.filter(created_at__gte=submission.submitted_at)
    assert sorted(m.recipients for m in queued) == [
        "camille.martin@example.org",
        "equipe@example.org",
    ]
    assert {m.status for m in queued} == {Mail.Status.PENDING}
    run_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "camille.martin@example.org",
        "equipe@example.org",
    ]
    notification = next(m for m in mail.outbox if m.to == ["equipe@example.org"])
    assert "/admin/surveys/pendinginitiative/" in notification.body
    assert {m.status for m in queued.all()} == {Mail.Status.SENT}


@NO_WAIT
@override_settings(
    MAILERS={"default": {"BACKEND": "tests.surveys.test_submissions.FailingBackend"}}
)
def test_failing_mail_server_keeps_exactly_one_submission(
    client, django_capture_on_commit_callbacks
):
    before = stored()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, answer())
    assert response.status_code == 302
    assert stored() == (before[0] + 1, before[1] + 1)


@NO_WAIT
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"has_consented": ""}, "has_consented", "Votre accord est nécessaire"),
        ({"title": "x" * 201}, "title", "au plus 200 caractères"),
        ({"summary": "x" * 301}, "summary", "au plus 300 caractères"),
        ({"description": "x" * 10_001}, "description", "au plus 10000 caractères"),
        ({"submitter_name": "x" * 151}, "submitter_name", "au plus 150"),
        ({"submitter_email": "pas-une-adresse"}, "submitter_email", "adresse"),
        (
            {"collectivity_query": "Zzyzxville"},
            "collectivity_query",
            "Aucune commune ni intercommunalité ne correspond",
        ),
        ({"collectivity_code": "99999"}, "collectivity_query", "Collectivité inconnue"),
        ({"fax_number": "+33 1 23 45 67 89"}, "fax_number", "pas pu être accepté"),
        ({"started": "falsifié"}, "started", "expiré"),
        ({"themes": []}, "themes", "obligatoire"),
        ({"website": "javascript:alert(1)"}, "website", "URL"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_stored(client, changes, field, message):
    before = stored()
    response = post(client, answer(**changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in response.text
    assert 'id="erreurs"' in response.text  # the error summary at the top
    assert stored() == before


def test_form_sent_too_fast_is_refused(client):
    before = stored()
    response = post(client, answer())
    assert "envoyé trop vite" in response.text
    assert stored() == before


def token_shown(seconds_ago, monkeypatch):
    """Sign the form's token as if the form had been shown `seconds_ago`."""
    shown_at = time.time() - seconds_ago
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: shown_at)
        return form_token()


@override_settings(SUBMISSION_MIN_SECONDS=3)
@pytest.mark.parametrize(
    ("seconds_ago", "message"),
    [
        (FORM_TOKEN_MAX_AGE + 3600, "ouvert il y a plus de 24 heures"),
        (2 * 24 * 3600, "ouvert il y a plus de 24 heures"),
        (2, "envoyé trop vite"),
    ],
)
def test_form_shown_too_long_or_too_short_ago_is_refused(
    client, monkeypatch, seconds_ago, message
):
    before = stored()
    response = post(client, answer(started=token_shown(seconds_ago, monkeypatch)))
    assert response.status_code == 200
    errors = response.context["form"].errors["started"]
    assert [message in error for error in errors] == [True]
    assert message in response.text
    assert stored() == before


@NO_WAIT
def test_a_stale_form_comes_back_ready_to_send(client, monkeypatch):
    stale = token_shown(2 * 24 * 3600, monkeypatch)
    response = post(client, answer(started=stale))
    assert response.status_code == 200
    fresh = re.search(r'name="started" value="([^"]+)"', response.text)[1]
    assert fresh != stale
    assert post(client, answer(started=fresh)).status_code == 302


@override_settings(SUBMISSION_MIN_SECONDS=3)
@pytest.mark.parametrize("seconds_ago", [4, 3600, FORM_TOKEN_MAX_AGE - 60])
def test_form_shown_within_a_day_is_accepted(client, monkeypatch, seconds_ago):
    before = stored()
    response = post(client, answer(started=token_shown(seconds_ago, monkeypatch)))
    assert response.status_code == 302
    assert stored() == (before[0] + 1, before[1] + 1)


@NO_WAIT
def test_ambiguous_collectivity_offers_a_choice(client):
    response = post(client, answer(collectivity_query="Saint-Pierre"))
    candidates = response.context["form"].candidates
    assert len(candidates) > 1
    assert len({c.department_id for c in candidates}) > 1
    assert 'name="collectivity_code"' in response.text
    chosen = next(c for c in candidates if c.department.code == "974")
    before = stored()
    response = post(
        client, answer(collectivity_query="Saint-Pierre", collectivity_code=chosen.code)
    )
    assert response.status_code == 302
    assert Initiative.objects.latest("pk").collectivity == chosen
    assert stored()[0] == before[0] + 1


@NO_WAIT
def test_postcode_and_insee_code_find_the_collectivity(client):
    post(client, answer(collectivity_query="2A004"))
    assert Initiative.objects.latest("pk").collectivity.name == "Ajaccio"
    response = post(client, answer(collectivity_query="13500"))
    assert response.status_code == 302
    assert Initiative.objects.latest("pk").collectivity.name == "Martigues"


@NO_WAIT
@override_settings(SUBMISSIONS_PER_HOUR=3)
def test_too_many_submissions_from_one_address_get_a_429(client):
    codes = [post(client, answer(title=f"Action {n}")).status_code for n in range(4)]
    assert codes == [302, 302, 302, 429]
    before = stored()
    response = post(client, answer(title="Encore une"))
    assert response.status_code == 429
    assert "Réessayez dans" in response.text
    assert 0 < int(response["Retry-After"]) <= 3600
    assert stored() == before
    other = post(client, answer(title="Ailleurs"), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


@NO_WAIT
@pytest.mark.parametrize(("name", "content", "content_type", "code"), HOSTILE)
def test_hostile_images_are_refused_and_leave_nothing(
    client, media, private_temp, name, content, content_type, code
):
    before, files_before = stored(), media_files()
    upload = SimpleUploadedFile(name, content, content_type)
    response = post(client, answer(image=upload, image_alt="Une photo"))
    assert response.status_code == 200
    errors = response.context["form"].errors["image"]
    # Django's own file field refuses an empty file before our checks run.
    expected = "Le fichier soumis est vide." if code == "empty" else MESSAGES[code]
    assert errors == [expected]
    assert "image" in response.text.split('id="erreurs"')[1].split("</div>")[0]
    assert stored() == before
    assert media_files() == files_before
    assert list(private_temp.iterdir()) == []


@NO_WAIT
def test_accepted_image_is_stored_reencoded_under_a_random_name(client, media):
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 1000), "teal").save(buffer, "JPEG")
    upload = SimpleUploadedFile("../../photo du marché.jpg", buffer.getvalue())
    response = post(client, answer(image=upload, image_alt="Le marché en ligne"))
    assert response.status_code == 302
    initiative = Initiative.objects.latest("pk")
    name = os.path.basename(initiative.image.name)
    assert "march" not in name and len(name.split(".")[0]) == 32
    with Image.open(initiative.image.path) as image:
        assert max(image.size) == 2048 and not image.getexif()


@NO_WAIT
def test_image_without_alt_text_is_refused(client, media):
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "PNG")
    before = stored()
    upload = SimpleUploadedFile("a.png", buffer.getvalue())
    response = post(client, answer(image=upload, image_alt=""))
    assert "image_alt" in response.context["form"].errors
    assert stored() == before and media_files() == []


def test_closed_survey_shows_no_form(client):
    Survey.objects.update(is_accepting_submissions=False)
    response = client.get(URL)
    assert "L'appel à idées est fermé" in response.text
    assert "<form" not in response.text.split("<main")[1]


def test_purge_command_erases_old_contact_data(client):
    survey = Survey.objects.get()
    initiatives = Initiative.objects.filter(status="published")[:2]
    old, recent = (
        Submission.objects.create(
            survey=survey,
            initiative=initiative,
            submitter_name="Nom",
            submitter_email="nom@example.org",
            submitter_role="Rôle",
            has_consented=True,
        )
        for initiative in initiatives
    )
    Submission.objects.filter(pk=old.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=3 * 365 + 1)
    )
    out = io.StringIO()
    call_command("purge_contacts", stdout=out)
    assert "1 proposition(s)" in out.getvalue()
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.submitter_name, old.submitter_email, old.submitter_role) == ("", "", "")
    assert old.contact_purged_at is not None
    assert recent.submitter_email == "nom@example.org"
    call_command("purge_contacts", "--days", "0", stdout=out)
    recent.refresh_from_db()
    assert recent.submitter_email == ""


class RefusingBackend(BaseEmailBackend):
    """A mail server the request must never reach."""

    def send_messages(self, messages):
        raise AssertionError("a mail was sent from inside the request")


@NO_WAIT
@override_settings(
    MAILERS={"default": {"BACKEND": "tests.surveys.test_submissions.RefusingBackend"}}
)
def test_the_request_sends_no_mail(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, answer())
    assert response.status_code == 302
    assert Mail.objects.filter(status=Mail.Status.PENDING).exists()


# Limits that hold


@NO_WAIT
@override_settings(SUBMISSIONS_PER_HOUR=2, API_ANONYMOUS_RATE="1000/minute")
def test_a_flood_of_other_clients_does_not_reset_the_submission_limit(client):
    assert [
        post(client, answer(title=f"Action {n}")).status_code for n in range(3)
    ] == [
        302,
        302,
        429,
    ]
    # Hundreds of other clients (an attacker's rotating addresses) each leave
    # a counter behind: more than a cache of 300 entries would keep.
    for n in range(400):
        client.get("/api/v1/themes/", REMOTE_ADDR=f"198.51.{n // 256}.{n % 256}")
    assert post(client, answer(title="Encore une")).status_code == 429


@NO_WAIT
@override_settings(SUBMISSION_ATTEMPTS_PER_HOUR=5)
def test_every_post_counts_even_a_refused_one(client):
    refused = answer(has_consented="")
    statuses = [post(client, refused).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    # The limit holds for a valid form too, from the same address.
    assert post(client, answer()).status_code == 429


@NO_WAIT
def test_no_image_is_decoded_while_a_cheap_field_is_wrong(client, monkeypatch):
    decoded = []
    monkeypatch.setattr(images, "decode", lambda data: decoded.append(len(data)))
    upload = SimpleUploadedFile("photo.png", b"\x89PNG" + b"0" * 1000, "image/png")
    response = post(
        client, answer(image=upload, image_alt="Une photo", has_consented="")
    )
    assert response.status_code == 200
    assert decoded == []
    errors = response.context["form"].errors
    assert "has_consented" in errors
    assert errors["image"] == [MESSAGES["not_checked"]]


# Races and bad input


@NO_WAIT
def test_two_identical_submissions_at_the_same_instant_are_both_saved(
    client, monkeypatch
):
    """The second of two simultaneous submissions finds the slug free, then
    loses the insert to the first: it takes the next slug."""
    first = post(client, answer())
    assert first.status_code == 302
    taken = Initiative.objects.latest("pk").slug
    real_free_slug = submissions.free_slug
    calls = []

    def racing(base):
        calls.append(base)
        return taken if len(calls) == 1 else real_free_slug(base)

    monkeypatch.setattr(submissions, "free_slug", racing)
    second = post(client, answer())
    assert second.status_code == 302
    slugs = list(
        Initiative.objects.filter(title=answer()["title"]).values_list(
            "slug", flat=True
        )
    )
    assert sorted(slugs) == sorted([taken, f"{taken}-2"])
    assert Submission.objects.filter(initiative__slug=f"{taken}-2").exists()


@NO_WAIT
@pytest.mark.parametrize(
    "field", ["title", "summary", "description", "submitter_name", "collectivity_query"]
)
def test_control_characters_are_refused_in_french(client, field):
    before = stored()
    response = post(client, answer(**{field: "Un titre\x0bcaché"}))
    assert response.status_code == 200
    [message] = response.context["form"].errors[field]
    assert "caractère de contrôle invisible (U+000B)" in message
    assert stored() == before


# Plain-text mails


@NO_WAIT
@override_settings(SUBMISSION_NOTIFY_EMAILS=["equipe@example.org"])
def test_plain_text_mails_are_not_html_escaped(client, run_tasks):
    title = "L'appli « Mon quartier » & co <beta>"
    post(client, answer(title=title))
    run_tasks()
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert title in message.body
        assert "&amp;" not in message.body and "&#x27;" not in message.body
    notification = next(m for m in mail.outbox if m.to == ["equipe@example.org"])
    assert title in notification.subject


@NO_WAIT
def test_the_same_form_sent_twice_makes_one_submission(client, run_tasks):
    """A retry after a lost answer (a host gone, a double click) sends the
    same form again: it is recognised, not saved twice, nor mailed twice."""
    before = stored()
    data = answer()
    assert post(client, data).status_code == 302
    assert post(client, data).status_code == 302
    assert stored() == (before[0] + 1, before[1] + 1)
    run_tasks()
    assert len(mail.outbox) == 1  # the acknowledgement, once
    # Another display of the form is another submission.
    assert post(client, answer(started=form_token())).status_code == 302
    assert stored() == (before[0] + 2, before[1] + 2)


@NO_WAIT
def test_a_media_store_that_does_not_answer_saves_nothing(client, media, monkeypatch):
    def unreachable(self, name, content, max_length=None):
        raise ConnectionRefusedError("object store down")

    monkeypatch.setattr("django.core.files.storage.FileSystemStorage.save", unreachable)
    before = stored()
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, "JPEG")
    upload = SimpleUploadedFile("photo.jpg", buffer.getvalue(), "image/jpeg")
    response = post(client, answer(image=upload, image_alt="Le guichet"))
    assert response.status_code == 200
    [message] = response.context["form"].errors["image"]
    assert "n'a pas pu être enregistrée" in message
    assert stored() == before
