"""Anonymous visitors' public pages, served from the cache.

Django's per-site cache (`UpdateCacheMiddleware`, `FetchFromCacheMiddleware`),
narrowed and kept fresh:

- Only anonymous GET and HEAD requests for public HTML pages take part: never a
  request with a session cookie (staff), never the admin, the call for ideas'
  form, the API (its own ETags, and a throttle that must count every call) or
  the health check; never a response that is not a 200 HTML page, sets a
  cookie (a CSRF token always does) or printed the CSP nonce, which a cached copy
  would hand to every visitor.
- A content version is part of the key prefix. Saving or deleting a row that
  visitors see, or saw before the change, replaces it once the transaction
  commits: every page cached before is abandoned, the next request renders
  afresh. A row of the catalogue's apps is seen unless it is a history record
  or its model's `is_seen_by_visitors()` says otherwise (a submission never;
  an initiative once published): a new submission waiting for review, its
  moderation notes or a purge of contact data keep the pages. The cache
  lifetime (`CACHE_MIDDLEWARE_SECONDS`, from PAGE_CACHE_SECONDS) only bounds
  changes that skip Django's signals (bulk SQL). 0 turns the whole thing off.
- Browsers get `max-age=0`: their copy never outlives an edit, and they
  revalidate against the cached page's ETag (ConditionalGetMiddleware's 304).
- The API's reads keep their data, not their response, in the same cache under
  the same version (`cached_data`, used by core.viewsets.ReadOnlyViewSet): the
  throttle still counts every call and the response is rendered for each, but
  the queries and the serializers run once per version and URL.

The middleware sits inside the security-header and CSP middleware (see
MIDDLEWARE): the cached copy holds no CSP header nor request id, and every
response, cached or not, gets the current ones.
"""

import copy
import hashlib
import re
import uuid

from django.conf import settings
from django.core.cache import caches
from django.core.checks import Error, Tags, register
from django.core.exceptions import MiddlewareNotUsed
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.middleware.cache import FetchFromCacheMiddleware, UpdateCacheMiddleware
from django.middleware.csp import get_nonce
from django.utils.cache import patch_cache_control
from django.utils.http import http_date
from simple_history.models import HistoricalChanges

# The apps whose rows the public pages show.
CONTENT_APPS = {"initiatives", "surveys", "vigilance"}
VERSION_KEY = "content-version"
NEVER_CACHED_PATHS = ["proposer/", "api/", "healthz"]
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def is_enabled() -> bool:
    return settings.CACHE_MIDDLEWARE_SECONDS > 0


def page_cache():
    return caches[settings.CACHE_MIDDLEWARE_ALIAS]


def content_version() -> str | None:
    """Return the current content version (one cache read), making a new one if
    the cache lost it: a version is never reused, so an eviction can only cause
    misses. None when the cache does not answer."""
    cache = page_cache()
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def bump_content_version() -> None:
    """Abandon every cached page: each is rendered afresh on its next request."""
    page_cache().set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def is_seen_by_visitors(sender, instance) -> bool:
    """Tell whether visitors see `instance`, a row of `sender` (its model, or
    the relation that changed), or saw it before this change. A row of the
    content apps is seen unless it is a history record (the staff's, written
    with the row it records, whose own change decides) or its model has an
    `is_seen_by_visitors()` method that says no."""
    if sender._meta.app_label not in CONTENT_APPS:
        return False
    if isinstance(instance, HistoricalChanges):
        return False
    seen = getattr(instance, "is_seen_by_visitors", None)
    return seen is None or seen()


def content_changed(sender, instance, using="default", **kwargs) -> None:
    # After the commit: a request reading the old rows until then keeps the
    # old version in its key, so it can never cache them under the new one.
    if is_enabled() and is_seen_by_visitors(sender, instance):
        transaction.on_commit(bump_content_version, using=using, robust=True)


def relation_changed(sender, action, **kwargs) -> None:
    if action.startswith("post_"):
        content_changed(sender, **kwargs)


def connect_signals() -> None:
    """Bump the content version on every change that visitors may see. Called
    once, from the admin app's ready()."""
    post_save.connect(content_changed, dispatch_uid="core.page_cache.save")
    post_delete.connect(content_changed, dispatch_uid="core.page_cache.delete")
    m2m_changed.connect(relation_changed, dispatch_uid="core.page_cache.m2m")


def is_public_page_request(request) -> bool:
    """Tell whether the cache may answer `request` or keep its response."""
    never_cached = "|".join(
        re.escape(path) for path in [settings.ADMIN_PATH, *NEVER_CACHED_PATHS]
    )
    return is_anonymous_read(request) and not re.match(
        rf"/({never_cached})", request.path_info
    )


def cached_data(request, produce):
    """Answer an API read: the data of `produce()`'s response when it is a 200,
    kept under the content version like the pages, keyed by the absolute URL
    (the data's links are absolute). Returns (data, None) from the cache, or
    (None, response) when produced; anything else than an anonymous GET or
    HEAD, or a cache that does not answer, is produced every time."""
    version = None
    if is_enabled() and is_anonymous_read(request):
        version = content_version()
    if version is None:
        return None, produce()
    url = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
    key = f"api-data:{version}:{url}"
    data = page_cache().get(key)
    if data is not None:
        return data, None
    response = produce()
    if response.status_code == 200:
        page_cache().set(key, response.data, settings.CACHE_MIDDLEWARE_SECONDS)
    return None, response


def is_anonymous_read(request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "Authorization" not in request.headers
    )


class PageCacheMixin:
    def __init__(self, get_response):
        if not is_enabled():
            raise MiddlewareNotUsed
        super().__init__(get_response)

    def with_key_prefix(self, request):
        """Return this middleware keyed to the content version `request` started
        with: a copy, as one instance serves every thread."""
        keyed = copy.copy(self)
        keyed.key_prefix = request.page_cache_prefix
        return keyed


class UpdatePageCacheMiddleware(PageCacheMixin, UpdateCacheMiddleware):
    def _should_update_cache(self, request, response):
        return (
            super()._should_update_cache(request, response)
            and hasattr(request, "page_cache_prefix")
            and response.status_code == 200
            and response.get("Content-Type", "").startswith("text/html")
            and not response.cookies
            # A generated nonce is in the page: it must not be replayed.
            and not get_nonce(request)
        )

    def process_response(self, request, response):
        if not self._should_update_cache(request, response):
            return response
        patch_cache_control(response, max_age=0)
        # Expires agrees with max-age, and on a hit Django's Age header counts
        # from the time the page was stored.
        response.headers.setdefault("Expires", http_date())
        keyed = self.with_key_prefix(request)
        # The cache's lifetime, not the browsers' max-age.
        keyed.page_timeout = self.cache_timeout
        return super(UpdatePageCacheMiddleware, keyed).process_response(
            request, response
        )


class FetchFromPageCacheMiddleware(PageCacheMixin, FetchFromCacheMiddleware):
    def process_request(self, request):
        version = content_version() if is_public_page_request(request) else None
        if version is None:
            request._cache_update_cache = False
            return None
        request.page_cache_prefix = f"{self.key_prefix}{version}"
        keyed = self.with_key_prefix(request)
        return super(FetchFromPageCacheMiddleware, keyed).process_request(request)


@register(Tags.caches)
def check_page_cache_is_shared(app_configs, **kwargs):
    """Refuse, in production, a page cache that each worker process keeps for
    itself: an edit would bump the content version of one process only, and the
    others would keep serving the old pages."""
    if settings.DEBUG or not is_enabled():
        return []
    backend = settings.CACHES[settings.CACHE_MIDDLEWARE_ALIAS]["BACKEND"]
    if backend not in PER_PROCESS_CACHES:
        return []
    return [
        Error(
            f"The page cache ({backend}) is not shared between processes, so "
            "edits would not reach every process's cached pages.",
            hint="Use the database cache or Redis, or set PAGE_CACHE_SECONDS=0.",
            id="portal.E004",
        )
    ]
