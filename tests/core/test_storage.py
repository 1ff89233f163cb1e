"""Media in an S3-compatible object store (core/storage.py), against a real one
(SeaweedFS): what a visitor uploads lands in the bucket, the portal serves it
with its sandbox headers, and a store that does not answer breaks no page."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from core.images import sanitize_image
from initiatives.models import Initiative
from tests.factories import InitiativeFactory
from tests.servers import BUCKET, ObjectStore

pytestmark = pytest.mark.django_db

SANDBOX = "default-src 'none'; sandbox"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    running = ObjectStore(tmp_path_factory.mktemp("store"))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def in_the_store(store, tmp_path):
    options = {
        "bucket_name": BUCKET,
        "endpoint_url": store.endpoint,
        "access_key": store.key,
        "secret_key": store.secret,
        "region_name": "us-east-1",
    }
    media = {"BACKEND": "core.storage.MediaStorage", "OPTIONS": options}
    with override_settings(
        STORAGES={"default": media, "staticfiles": {"BACKEND": STATIC}},
        MEDIA_ROOT=tmp_path / "media",
    ):
        yield store


STATIC = "django.contrib.staticfiles.storage.StaticFilesStorage"


def picture():
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), "teal").save(buffer, "PNG")
    return sanitize_image(SimpleUploadedFile("photo.png", buffer.getvalue()))


def published_with_image():
    initiative = InitiativeFactory.build(published=True, image_alt="Une photo")
    for related in (initiative.collectivity, initiative.category):
        related.save()
    initiative.collectivity_id = initiative.collectivity.pk
    initiative.category_id = initiative.category.pk
    initiative.attach_image(picture())
    initiative.save()
    return initiative


def test_an_image_goes_to_the_bucket_and_is_served_by_the_portal(client, in_the_store):
    initiative = published_with_image()
    name = initiative.image.name
    stored = in_the_store.client().get_object(Bucket=BUCKET, Key=name)["Body"].read()
    assert initiative.image.url == f"/media/{name}"
    response = client.get(initiative.image.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["Content-Type"] == "image/jpeg"
    page = client.get(initiative.get_absolute_url()).text
    assert f'src="/media/{name}"' in page
    assert client.get("/media/initiatives/absente.jpg").status_code == 404


def test_a_store_that_does_not_answer_breaks_no_page(client, in_the_store, settings):
    initiative = published_with_image()
    options = settings.STORAGES["default"]["OPTIONS"]
    unreachable = {**options, "endpoint_url": "http://127.0.0.1:9"}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "core.storage.MediaStorage", "OPTIONS": unreachable},
    }
    refreshed = Initiative.objects.get(pk=initiative.pk)
    page = client.get(refreshed.get_absolute_url())
    assert page.status_code == 200
    assert "<img" not in page.text.split("<main")[1]
    media = client.get(refreshed.image.url)
    assert media.status_code == 503
    assert client.get("/api/v1/initiatives/").status_code == 200
