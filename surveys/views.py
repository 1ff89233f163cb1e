from django.shortcuts import render

from initiatives.models import Initiative

from .models import KeyFigure, Survey


def survey_results(request):
    survey = Survey.objects.prefetch_related("categories").first()
    context = {
        "survey": survey,
        "catalogued": Initiative.objects.published().filter(survey=survey).count(),
    }
    return render(request, "surveys/survey_results.html", context)


def key_figure_list(request):
    context = {"key_figures": KeyFigure.objects.all()}
    return render(request, "surveys/keyfigure_list.html", context)
