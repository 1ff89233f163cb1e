"""An initiative's image: sized once, never read to render a page, shown only
while its file is there, deleted with its initiative (after the commit only),
and an initiative restored from its history gets back what it had."""

import datetime
import io
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from core.images import sanitize_image
from initiatives.models import Initiative, Theme
from surveys.models import Submission, Survey
from surveys.submissions import decide, purge_contacts
from tests.factories import InitiativeFactory
from vigilance.models import VigilancePoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def picture(size=(64, 48)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    return sanitize_image(SimpleUploadedFile("photo.png", buffer.getvalue()))


def with_image(media, **fields):
    initiative = InitiativeFactory.build(image_alt="Une photo du guichet", **fields)
    initiative.collectivity.save()
    initiative.category.save()
    initiative.collectivity_id = initiative.collectivity.pk
    initiative.category_id = initiative.category.pk
    initiative.attach_image(picture())
    initiative.save()
    return initiative


def file_exists(initiative):
    return initiative.image.storage.exists(initiative.image.name)


def test_the_size_is_stored_with_the_row(media):
    initiative = with_image(media, published=True)
    initiative.refresh_from_db()
    assert (initiative.image_width, initiative.image_height) == (64, 48)


def test_a_missing_file_hides_the_image_and_breaks_nothing(client, media, caplog):
    initiative = with_image(media, published=True)
    initiative.image.storage.delete(initiative.image.name)
    with caplog.at_level(logging.WARNING, logger="initiatives"):
        response = client.get(initiative.get_absolute_url())
    assert response.status_code == 200
    assert "<img" not in response.text.split("<main")[1]
    assert any("image file missing" in record.message for record in caplog.records)
    detail = client.get(reverse("api:initiative-detail", args=[initiative.slug]))
    assert detail.status_code == 200
    assert detail.json()["image"]["width"] == 64
    assert client.get(reverse("api:initiative-list")).status_code == 200


def test_the_page_reads_the_size_from_the_row_not_the_file(client, media):
    initiative = with_image(media, published=True)
    Initiative.objects.filter(pk=initiative.pk).update(image_width=640)
    response = client.get(initiative.get_absolute_url())
    assert 'width="640" height="48"' in response.text


def test_deleting_an_initiative_deletes_its_file_after_the_commit(
    media, django_capture_on_commit_callbacks
):
    initiative = with_image(media, published=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Initiative.objects.filter(pk=initiative.pk).delete()
    assert file_exists(initiative)  # not before the commit: a rollback keeps it
    for callback in callbacks:
        callback()
    assert not file_exists(initiative)


def test_a_refused_initiative_loses_its_image(media, staff_user):
    initiative = with_image(media)
    name = initiative.image.name
    storage = initiative.image.storage
    decide([initiative], staff_user, Initiative.Status.REJECTED, "Hors sujet")
    initiative.refresh_from_db()
    assert not initiative.image and initiative.image_width is None
    assert storage.exists(name)  # the commit has not happened in this test


def test_the_refusal_deletes_the_file_once_committed(
    media, staff_user, django_capture_on_commit_callbacks
):
    initiative = with_image(media)
    name, storage = initiative.image.name, initiative.image.storage
    with django_capture_on_commit_callbacks(execute=True):
        decide([initiative], staff_user, Initiative.Status.REJECTED, "Hors sujet")
    assert not storage.exists(name)


def test_purging_contacts_deletes_the_images_never_published(
    media, django_capture_on_commit_callbacks
):
    old = timezone.now() - datetime.timedelta(days=4 * 365)
    kept = with_image(media, published=True)
    dropped = with_image(media)
    for initiative in (kept, dropped):
        submission = Submission.objects.create(
            survey=Survey.objects.get(),
            initiative=initiative,
            submitter_email="nom@example.org",
            has_consented=True,
        )
        Submission.objects.filter(pk=submission.pk).update(submitted_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_contacts(datetime.timedelta(days=3 * 365)) == 2
    kept.refresh_from_db()
    assert file_exists(kept)
    assert not Initiative.objects.get(pk=dropped.pk).image
    assert not dropped.image.storage.exists(dropped.image.name)


def test_restoring_a_deleted_initiative_gives_back_its_links_and_submission(
    staff_client,
):
    initiative = InitiativeFactory(published=True)
    themes = list(Theme.objects.order_by("pk")[:2])
    points = list(VigilancePoint.objects.order_by("pk")[:1])
    initiative.themes.set(themes)
    initiative.vigilance_points.set(points)
    submission = Submission.objects.create(
        survey=Survey.objects.get(),
        initiative=initiative,
        submitter_email="camille.martin@example.org",
        has_consented=True,
    )
    pk = initiative.pk
    delete = reverse("admin:initiatives_initiative_delete", args=[pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Initiative.objects.filter(pk=pk).exists()
    submission.refresh_from_db()
    assert submission.initiative is None  # kept, waiting for its initiative

    history = reverse("admin:initiatives_initiative_history", args=[pk])
    assert staff_client.get(history).status_code == 200
    version = Initiative.history.filter(id=pk).exclude(history_type="-").latest()
    revert = reverse(
        "admin:initiatives_initiative_simple_history", args=[pk, version.history_id]
    )
    form = staff_client.get(revert).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("image",)
    }
    data["themes"] = [theme.pk for theme in form.initial["themes"]]
    data["vigilance_points"] = [p.pk for p in form.initial["vigilance_points"]]
    data["collectivity"] = initiative.collectivity_id
    data["category"] = initiative.category_id
    data["published_at_0"], data["published_at_1"] = "", ""
    response = staff_client.post(revert, data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    restored = Initiative.objects.get(pk=pk)
    assert list(restored.themes.order_by("pk")) == themes
    assert list(restored.vigilance_points.all()) == points
    assert restored.submission == submission
