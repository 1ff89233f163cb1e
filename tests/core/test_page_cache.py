"""The anonymous-page cache (core/page_cache.py): what it serves, to whom, and
how an edit reaches the next visitor.

A page served from the cache carries Django's `Age` header; a rendered one does
not. Commits are simulated with django_capture_on_commit_callbacks: the content
version changes once the edit is committed.
"""

import datetime
import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template import engines
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import timezone

from core import page_cache
from initiatives.models import Category, Collectivity, Initiative, Theme
from surveys.models import KeyFigure, Submission, Survey
from surveys.submissions import create_submission, decide, purge_contacts
from tests.factories import InitiativeFactory
from tests.surveys.test_submissions import answer, post
from vigilance.models import VigilancePoint

pytestmark = pytest.mark.django_db

LIST = "/initiatives/"
DETAIL_SLUG = "beauvais-marche-primeurs-en-ligne"
DETAIL = f"/initiatives/{DETAIL_SLUG}/"
QUEUE = "/admin/surveys/pendinginitiative/"
NONCE = re.compile(r"'nonce-([^']+)'")


def page_setting_a_cookie(request):
    response = HttpResponse("<p>Préférence enregistrée.</p>")
    response.set_cookie("preference", "sombre")
    return response


def page_with_a_csrf_token(request):
    return HttpResponse(f'<input type="hidden" value="{get_token(request)}">')


def page_with_a_nonce(request):
    template = engines["django"].from_string(
        '<script nonce="{{ csp_nonce }}" src="/static/x.js"></script>'
    )
    return HttpResponse(template.render(request=request))


def plain_page(request):
    return HttpResponse("<p>Bonjour.</p>")


# The URLs of the tests marked `urls(__name__)`: pages that only those tests need.
urlpatterns = [
    path("cookie/", page_setting_a_cookie),
    path("csrf/", page_with_a_csrf_token),
    path("nonce/", page_with_a_nonce),
    path("simple/", plain_page),
]


@pytest.fixture
def cache_on(settings):
    """Turn the page cache on, on the cache production uses (a database table)."""
    settings.CACHE_MIDDLEWARE_SECONDS = 300
    return caches[settings.CACHE_MIDDLEWARE_ALIAS]


@pytest.fixture(params=["database", "locmem"])
def backend(request, settings, cache_on):
    """The page cache on, in the database (production) or in memory."""
    if request.param == "locmem":
        settings.CACHES = {
            **settings.CACHES,
            "pages": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "page-cache-tests",
            },
        }
    yield request.param
    caches[settings.CACHE_MIDDLEWARE_ALIAS].clear()


def from_cache(response):
    return "Age" in response.headers


def test_cache_is_off_in_the_ordinary_tests(client):
    client.get(LIST)

    assert not from_cache(client.get(LIST))


def test_second_anonymous_request_is_served_from_the_cache(client, backend):
    first = client.get(LIST)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(LIST)

    assert not from_cache(first)
    assert from_cache(second)
    assert second.content == first.content
    if backend == "database":
        # content version, the page's Vary headers, the page: all from the cache
        assert len(queries) == 3
        assert all('FROM "portal_page_cache"' in q["sql"] for q in queries)
    else:
        assert len(queries) == 0


def test_head_is_answered_from_the_cached_get(client, cache_on):
    client.get(LIST)

    assert from_cache(client.head(LIST))


def test_browsers_revalidate_and_get_a_304_from_the_cache(client, cache_on):
    first = client.get(LIST)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(LIST, headers={"If-None-Match": first.headers["ETag"]})

    assert first.headers["Cache-Control"] == "max-age=0"
    assert second.status_code == 304
    assert all('FROM "portal_page_cache"' in q["sql"] for q in queries)


def test_publishing_from_the_queue_shows_at_once(
    client, staff_user, verified_login, cache_on, django_capture_on_commit_callbacks
):
    waiting = InitiativeFactory(title="Un guichet numérique à Lens")
    search = {"q": "guichet numérique"}
    client.get(LIST, search)
    before = client.get(LIST, search)
    assert from_cache(before)
    assert waiting.title not in before.text

    staff = Client()
    verified_login(staff, staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(QUEUE, {"action": "publish", "_selected_action": [waiting.pk]})
    response = client.get(LIST, search)

    assert not from_cache(response)
    assert waiting.title in response.text


def test_editing_an_initiative_refreshes_its_page(
    client, cache_on, django_capture_on_commit_callbacks
):
    client.get(DETAIL)
    assert from_cache(client.get(DETAIL))
    initiative = Initiative.objects.get(slug=DETAIL_SLUG)

    with django_capture_on_commit_callbacks(execute=True):
        initiative.title = "Le marché des primeurs, en ligne et au marché"
        initiative.save()
    response = client.get(DETAIL)

    assert not from_cache(response)
    assert "Le marché des primeurs, en ligne et au marché" in response.text


def receive_submission(**fields):
    """Receive a collectivity's answer as the call for ideas does: an initiative
    waiting for review, and its private contact record."""
    initiative = Initiative(
        title="Un guichet numérique de quartier",
        collectivity=Collectivity.objects.get(code="62119"),
        category=Category.objects.first(),
        summary="Un guichet pour aider aux démarches en ligne.",
        description="Des agents accompagnent les habitants.",
        **fields,
    )
    themes = Theme.objects.all()[:1]
    contact = {"submitter_name": "Camille", "submitter_email": "c@example.org"}
    survey = Survey.objects.get()
    return create_submission(
        survey, initiative, contact, lambda: initiative.themes.set(themes)
    )


def published():
    return Initiative.objects.get(slug=DETAIL_SLUG)


def edit(initiative):
    initiative.summary += " Mis à jour."
    initiative.save()


def edit_initiative():
    edit(published())


CHANGES = {
    "initiative saved": edit_initiative,
    "initiative deleted": lambda: published().delete(),
    "themes changed": lambda: published().themes.clear(),
    "vigilance points changed": lambda: published().vigilance_points.clear(),
    "initiative unpublished": lambda: Initiative.objects.filter(
        slug=DETAIL_SLUG
    ).unpublish(),
    "submission published": lambda: decide(
        [receive_submission().initiative], None, Initiative.Status.PUBLISHED
    ),
    "theme saved": lambda: Theme.objects.first().save(),
    "key figure saved": lambda: KeyFigure.objects.first().save(),
    "vigilance point saved": lambda: VigilancePoint.objects.first().save(),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_content_change_bumps_the_version_once_committed(
    cache_on, django_capture_on_commit_callbacks, change
):
    before = page_cache.content_version()
    with django_capture_on_commit_callbacks() as callbacks:
        change()

    assert page_cache.content_version() == before  # not before the commit
    for callback in callbacks:
        callback()
    assert page_cache.content_version() != before


# Changes no visitor can see: an initiative waiting for review, never published.
UNSEEN_CHANGES = {
    "submitted initiative edited": edit,
    "its themes changed": lambda initiative: initiative.themes.clear(),
    "it is rejected": lambda initiative: decide(
        [initiative], None, Initiative.Status.REJECTED, "Hors sujet."
    ),
    "it is deleted": lambda initiative: initiative.delete(),
    "its submission saved": lambda initiative: Submission.objects.get(
        initiative=initiative
    ).save(),
}


@pytest.mark.parametrize("change", UNSEEN_CHANGES.values(), ids=UNSEEN_CHANGES.keys())
def test_changes_no_visitor_sees_keep_the_version(
    cache_on, django_capture_on_commit_callbacks, change
):
    waiting = receive_submission().initiative
    before = page_cache.content_version()
    with django_capture_on_commit_callbacks(execute=True):
        change(waiting)

    assert page_cache.content_version() == before


@override_settings(SUBMISSION_MIN_SECONDS=0)
def test_a_submission_through_the_form_keeps_the_cached_pages(
    client, cache_on, django_capture_on_commit_callbacks
):
    client.get(LIST)
    before = page_cache.content_version()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(Client(), answer())

    assert response.status_code == 302
    assert page_cache.content_version() == before
    assert from_cache(client.get(LIST))


def test_a_contact_purge_keeps_the_version(
    cache_on, django_capture_on_commit_callbacks, settings, tmp_path
):
    # The purge also drops the picture of a submission never published.
    settings.MEDIA_ROOT = tmp_path
    old = receive_submission(image="initiatives/photo.jpg", image_alt="Le guichet")
    long_ago = timezone.now() - datetime.timedelta(days=4 * 365)
    Submission.objects.filter(pk=old.pk).update(submitted_at=long_ago)
    before = page_cache.content_version()
    with django_capture_on_commit_callbacks(execute=True):
        purge_contacts(datetime.timedelta(days=3 * 365))

    old.refresh_from_db()
    assert old.contact_purged_at is not None and not old.initiative.image
    assert page_cache.content_version() == before


def test_editing_a_submitted_initiative_keeps_its_cached_pages(
    client, cache_on, django_capture_on_commit_callbacks
):
    waiting = receive_submission().initiative
    client.get(LIST)
    with django_capture_on_commit_callbacks(execute=True):
        edit(waiting)

    assert from_cache(client.get(LIST))


def test_a_lost_version_never_revives_old_pages(client, cache_on):
    client.get(LIST)
    cache_on.delete(page_cache.VERSION_KEY)

    assert not from_cache(client.get(LIST))
    assert from_cache(client.get(LIST))


def test_staff_never_get_nor_fill_the_cache(staff_client, cache_on):
    anonymous = Client()
    anonymous.get(DETAIL)
    assert from_cache(anonymous.get(DETAIL))

    for _ in range(2):
        assert not from_cache(staff_client.get(DETAIL))
        assert not from_cache(staff_client.get(LIST))
    assert not from_cache(anonymous.get(LIST))


@pytest.mark.parametrize(
    "url",
    [
        "/admin/login/",
        "/proposer/",
        "/api/",
        "/api/v1/initiatives/",
        f"/api/v1/initiatives/{DETAIL_SLUG}/",
        "/healthz",
        "/initiatives/page-inexistante/",
        "/sitemap.xml",
    ],
)
def test_never_cached(client, cache_on, url):
    client.get(url)

    assert not from_cache(client.get(url))


@pytest.mark.parametrize(
    ("admin_path", "url", "cached"),
    [
        ("admin/", "/admin/", False),
        ("gestion-7f3a/", "/gestion-7f3a/login/", False),
        ("gestion-7f3a/", "/admin/", True),
        ("admin/", "/api/", False),
        ("admin/", "/proposer/merci/", False),
        ("admin/", "/initiatives/", True),
    ],
)
def test_request_rules_follow_the_admin_path(rf, settings, admin_path, url, cached):
    settings.ADMIN_PATH = admin_path

    assert page_cache.is_public_page_request(rf.get(url)) is cached
    assert page_cache.is_public_page_request(rf.post(url)) is False
    with_session = rf.get(url, headers={"Cookie": "sessionid=abc"})
    assert page_cache.is_public_page_request(with_session) is False


API_LIST = "/api/v1/initiatives/"
API_DETAIL = f"/api/v1/initiatives/{DETAIL_SLUG}/"


def catalogue_queries(queries):
    """The queries that read the catalogue (not the caches)."""
    return [q for q in queries if "initiatives_" in q["sql"]]


@pytest.mark.parametrize("url", [f"{API_LIST}?department=60", API_DETAIL])
def test_api_data_is_kept_until_the_catalogue_changes(
    client, backend, django_capture_on_commit_callbacks, url
):
    first = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(url)

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert catalogue_queries(queries) == []

    with django_capture_on_commit_callbacks(execute=True):
        edit_initiative()
    with CaptureQueriesContext(connection) as queries:
        third = client.get(url)

    assert catalogue_queries(queries) != []
    assert "Mis à jour." in third.text and "Mis à jour." not in first.text


def test_api_data_of_each_url_is_its_own(client, cache_on):
    pages = [client.get(API_LIST, {"page": page}).json() for page in (1, 2, 1)]

    assert pages[0] == pages[2]
    assert pages[0]["results"] != pages[1]["results"]
    assert pages[1]["previous"].startswith("http://testserver/api/v1/")


def test_api_errors_and_missing_rows_are_not_kept(client, cache_on):
    draft = InitiativeFactory(title="Une initiative pas encore publiée")
    url = f"{API_LIST}{draft.slug}/"
    assert client.get(url).status_code == 404
    assert client.get(API_LIST, {"department": "zz"}).status_code == 400

    # Published without a signal (bulk SQL): the version stays, the 404 was not kept.
    published = {"status": "published", "published_at": timezone.now()}
    Initiative.objects.filter(pk=draft.pk).update(**published)

    assert client.get(url).json()["title"] == draft.title


def test_api_data_is_not_kept_with_the_cache_off(client):
    client.get(API_DETAIL)
    with CaptureQueriesContext(connection) as queries:
        client.get(API_DETAIL)

    assert catalogue_queries(queries) != []


def test_api_throttle_keeps_counting(client, cache_on, settings):
    settings.API_ANONYMOUS_RATE = "2/minute"
    caches["default"].clear()
    statuses = [client.get("/api/v1/regions/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_pages_work_when_redis_is_down(client, cache_on, settings):
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    responses = [client.get(LIST) for _ in range(2)]

    assert [r.status_code for r in responses] == [200, 200]
    assert not any(from_cache(r) for r in responses)


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/cookie/", "/csrf/"])
def test_a_response_that_sets_a_cookie_is_not_cached(client, cache_on, url):
    first = client.get(url)
    second = client.get(url)

    assert first.cookies
    assert not from_cache(second)


@pytest.mark.urls(__name__)
def test_a_plain_page_is_cached_by_the_same_rules(client, cache_on):
    client.get("/simple/")

    assert from_cache(client.get("/simple/"))


@pytest.mark.urls(__name__)
def test_a_page_that_printed_its_nonce_is_never_replayed(client, cache_on):
    responses = [client.get("/nonce/") for _ in range(2)]
    nonces = [NONCE.search(r.headers["Content-Security-Policy"])[1] for r in responses]

    assert not any(from_cache(r) for r in responses)
    assert nonces[0] != nonces[1]
    for response, nonce in zip(responses, nonces, strict=True):
        assert f'nonce="{nonce}"' in response.text


def test_submission_form_gets_a_new_nonce_each_time(client, cache_on):
    first, second = client.get("/proposer/"), client.get("/proposer/")

    assert not from_cache(second)
    first_nonce = NONCE.search(first.headers["Content-Security-Policy"])[1]
    second_nonce = NONCE.search(second.headers["Content-Security-Policy"])[1]
    assert first_nonce != second_nonce


SECURITY_HEADERS = [
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
    "Permissions-Policy",
    "X-Frame-Options",
]


@pytest.mark.parametrize("url", ["/", LIST, DETAIL, "/donnees/"])
def test_cached_pages_keep_every_security_header(client, cache_on, url):
    first = client.get(url, secure=True)
    second = client.get(url, secure=True)

    assert from_cache(second)
    for header in SECURITY_HEADERS:
        assert second.headers[header] == first.headers[header], header
    assert "nonce" not in second.headers["Content-Security-Policy"]
    assert "nonce" not in second.text
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]


def test_gzip_still_follows_accept_encoding(client, cache_on):
    gzip = {"Accept-Encoding": "gzip, deflate, br"}
    client.get(LIST, headers=gzip)
    compressed = client.get(LIST, headers=gzip)
    plain = client.get(LIST)

    assert from_cache(compressed)
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    assert plain.content.startswith(b"<!doctype html>")


@pytest.mark.parametrize(
    ("cache_backend", "errors"),
    [("locmem.LocMemCache", ["portal.E004"]), ("db.DatabaseCache", [])],
)
def test_check_refuses_a_page_cache_per_process(
    settings, cache_on, cache_backend, errors
):
    settings.DEBUG = False
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": f"django.core.cache.backends.{cache_backend}",
            "LOCATION": "portal_page_cache",
        },
    }

    found = page_cache.check_page_cache_is_shared(None)

    assert [error.id for error in found] == errors
