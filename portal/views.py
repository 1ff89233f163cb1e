from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults

from initiatives.models import Initiative, Theme
from surveys.models import KeyFigure, Survey


def home(request):
    published = Initiative.objects.published()
    context = {
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
