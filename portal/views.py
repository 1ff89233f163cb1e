import datetime
import logging
import mimetypes
import posixpath
import sys

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static as static_url
from django.utils import timezone
from django.utils.csp import CSP
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult, get_date_max
from drf_spectacular.views import SpectacularSwaggerSplitView

from core.storage import STORAGE_ERRORS, is_missing
from initiatives import maps
from initiatives.facets.counts import count
from initiatives.facets.options import by_value
from initiatives.filters import InitiativeFilter
from initiatives.models import Department, Initiative, Theme
from surveys.models import KeyFigure, Survey

logger = logging.getLogger("portal.health")


# The home page shows the latest practices put forward, and links to the rest.
FEATURED = 6


def home(request):
    published = Initiative.objects.published()
    # The catalogue's counts, unfiltered: read, not computed, on PostgreSQL.
    catalogue = InitiativeFilter(QueryDict(), queryset=published)
    catalogue_counts = count(catalogue)
    counts = by_value(catalogue, catalogue_counts, "department")
    names = dict(Department.objects.values_list("code", "name"))
    themes = list(Theme.objects.all())
    by_theme = by_value(catalogue, catalogue_counts, "theme")
    for theme in themes:
        theme.initiative_count = by_theme.get(theme.slug, 0)
    context = {
        "map": maps.department_map(counts, names),
        "legend": maps.legend(counts),
        "key_figures": KeyFigure.objects.all(),
        "themes": themes,
        "featured": published.featured()
        .for_cards()
        .order_by("-published_at", "-pk")[:FEATURED],
        "survey": Survey.objects.first(),
        "catalogued": catalogue_counts.total,
    }
    return render(request, "home.html", context)


# Seconds a client is asked to wait when the database is down.
RETRY_AFTER = 30
TASKS_LATE = datetime.timedelta(minutes=5)
UNAVAILABLE = (
    "Le portail est momentanément indisponible : sa base de données ne répond "
    "pas. Réessayez dans quelques instants."
)


def server_error(request):
    """Answer an unexpected error: 503 with Retry-After when the database does
    not answer (an outage, not a bug: the page says so and no one is mailed),
    else the site's 500 page. Neither reads the database."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": UNAVAILABLE}, status=503)
        else:
            response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    return defaults.server_error(request)


def page_not_found(request, exception):
    """Answer API clients in JSON, everyone else with the site's 404 page."""
    if request.path.startswith("/api/"):
        detail = "Ressource introuvable : vérifiez l'adresse (voir /api/v1/docs/)."
        return JsonResponse({"detail": detail}, status=404)
    return defaults.page_not_found(request, exception)


@require_safe
@never_cache
def healthz(request):
    """Tell a load balancer whether this process can serve, naming each
    dependency's state: 503 when the database does not answer; "degraded" (200,
    the pages still work) when the cache is down or the task worker is late."""
    checks = {"database": database_state()}
    if checks["database"] == "ok":
        checks["tasks"] = tasks_state()
    checks["cache"] = cache_state()
    if checks["database"] != "ok":
        status, code = "unavailable", 503
    elif any(state != "ok" for state in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    response = JsonResponse({"status": status, "checks": checks}, status=code)
    if code == 503:
        response["Retry-After"] = str(RETRY_AFTER)
    return response


def database_state():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.warning("health check: the database does not answer", exc_info=True)
        return "unavailable"
    return "ok"


def cache_state():
    """Ask Redis, when it is the cache (the database's own cache table is
    covered by the database's check)."""
    ping = getattr(cache, "ping", None)
    return "ok" if ping is None or ping() else "unavailable"


def tasks_state():
    """ "late" when a background task (a mail…) has waited for the worker for
    more than TASKS_LATE: the worker is stopped or overwhelmed."""
    limit = timezone.now() - TASKS_LATE
    waiting = DBTaskResult.objects.ready().filter(
        Q(run_after__lt=limit) | Q(run_after=get_date_max(), enqueued_at__lt=limit)
    )
    return "late" if waiting.exists() else "ok"


@require_safe
def favicon(request):
    """Answer browsers that ask for /favicon.ico on pages without an icon link
    (the admin, the API's JSON)."""
    return redirect(static_url("favicon.svg"), permanent=True)


@require_safe
def media(request, path):
    """Serve an uploaded file from the media storage (local disk or object
    store), sandboxed so that it can never run as a page of the site. Names
    are random and never reused: browsers keep a copy for a year. A path
    leaving the storage is a 404; a store that does not answer, a 503."""
    name = posixpath.normpath(path).lstrip("/")
    if name.startswith("..") or name in ("", "."):
        raise Http404
    try:
        stored = default_storage.open(name)
        size = stored.size  # read now: a missing object fails here, not later
    except (
        FileNotFoundError,
        IsADirectoryError,
        NotADirectoryError,
        SuspiciousFileOperation,
    ):
        raise Http404 from None
    except STORAGE_ERRORS as error:
        if is_missing(error):
            raise Http404 from None
        logger.warning("media storage unavailable for %s", name, exc_info=True)
        response = HttpResponse("Image momentanément indisponible.", status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(stored, content_type=content_type)
    response["Content-Length"] = str(size)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# Swagger UI styles itself with an inline <style> and style attributes: allow
# inline styles (never scripts) on this page only.
api_docs = csp_override(
    {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}
)(SpectacularSwaggerSplitView.as_view(url_name="schema"))
