from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults

from initiatives import maps
from initiatives.models import Department, Initiative, Theme
from surveys.models import KeyFigure, Survey


def home(request):
    published = Initiative.objects.published()
    departments = Department.objects.with_counts()
    counts = {d.code: d.initiative_count for d in departments}
    context = {
        "map": maps.department_map(counts, {d.code: d.name for d in departments}),
        "legend": maps.legend(counts),
        "key_figures": KeyFigure.objects.all(),
        "themes": Theme.objects.with_counts(),
        "featured": published.featured().for_listing(),
        "survey": Survey.objects.first(),
        "catalogued": published.count(),
    }
    return render(request, "home.html", context)


def page_not_found(request, exception):
    """Answer API clients in JSON, everyone else with the site's 404 page."""
    if request.path.startswith("/api/"):
        detail = "Ressource introuvable : vérifiez l'adresse (voir /api/v1/docs/)."
        return JsonResponse({"detail": detail}, status=404)
    return defaults.page_not_found(request, exception)
