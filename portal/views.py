from django.shortcuts import render

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
