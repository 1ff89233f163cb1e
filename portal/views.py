import logging

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.db import DatabaseError, connection
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.templatetags.static import static as static_url
from django.utils.csp import CSP
from django.views import defaults, static
from django.views.decorators.cache import never_cache
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularSwaggerSplitView

from initiatives import maps
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
    counts = catalogue.facet_count("department")
    names = dict(Department.objects.values_list("code", "name"))
    themes = list(Theme.objects.all())
    by_theme = catalogue.facet_count("theme")
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
        "catalogued": catalogue.total_count(),
    }
    return render(request, "home.html", context)


def page_not_found(request, exception):
    """Answer API clients in JSON, everyone else with the site's 404 page."""
    if request.path.startswith("/api/"):
        detail = "Ressource introuvable : vérifiez l'adresse (voir /api/v1/docs/)."
        return JsonResponse({"detail": detail}, status=404)
    return defaults.page_not_found(request, exception)


@require_safe
@never_cache
def healthz(request):
    """Tell a load balancer whether this process can reach the database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("health check: the database does not answer")
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@require_safe
def favicon(request):
    """Answer browsers that ask for /favicon.ico on pages without an icon link
    (the admin, the API's JSON)."""
    return redirect(static_url("favicon.svg"), permanent=True)


@require_safe
def media(request, path):
    """Serve an uploaded file from MEDIA_ROOT (never outside: `serve` joins the
    path safely; a way out is a 404), sandboxed so that it can never run as a page
    of the site."""
    try:
        response = static.serve(request, path, document_root=settings.MEDIA_ROOT)
    except SuspiciousFileOperation:
        raise Http404 from None
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# Swagger UI styles itself with an inline <style> and style attributes: allow
# inline styles (never scripts) on this page only.
api_docs = csp_override(
    {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}
)(SpectacularSwaggerSplitView.as_view(url_name="schema"))
