"""The /donnees/ pages: the open-data page, the files, their schemas, README
and DCAT catalogue."""

from django.db.models import Max
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render

from ..filters import InitiativeFilter
from ..models import Collectivity, Initiative
from . import describe, streams
from .columns import COLLECTIVITY_COLUMNS, INITIATIVE_COLUMNS, LIST_SEPARATOR

TEXT = "text/plain; charset=utf-8"


def base_url(request):
    return request.build_absolute_uri("/").rstrip("/")


def open_data(request):
    published = Initiative.objects.published()
    context = {
        "last_update": published.aggregate(last=Max("updated_at"))["last"],
        "initiative_count": published.count(),
        "initiative_fields": [column.schema() for column in INITIATIVE_COLUMNS],
        "collectivity_fields": [column.schema() for column in COLLECTIVITY_COLUMNS],
        "separator": LIST_SEPARATOR,
    }
    return render(request, "initiatives/open_data.html", context)


def filtered_initiatives(request):
    """Run the catalogue's FilterSet on the query: (initiatives, None), or
    (None, a 400 response naming the invalid parameters)."""
    published = Initiative.objects.published()
    filterset = InitiativeFilter(request.GET, queryset=published)
    if not filterset.is_valid():
        errors = "\n".join(
            f"- {label} : {error}" for label, error in filterset.error_list()
        )
        message = f"Paramètres invalides, aucun fichier produit :\n{errors}\n"
        return None, HttpResponseBadRequest(message, content_type=TEXT)
    return filterset.qs, None


def initiatives_csv(request):
    initiatives, error = filtered_initiatives(request)
    if error:
        return error
    return streams.csv_response(
        "initiatives.csv", INITIATIVE_COLUMNS, initiatives, base_url(request)
    )


def initiatives_json(request):
    initiatives, error = filtered_initiatives(request)
    if error:
        return error
    return streams.json_response(
        "initiatives.json", INITIATIVE_COLUMNS, initiatives, base_url(request)
    )


def collectivities_csv(request):
    collectivities = Collectivity.objects.with_initiative_counts()
    return streams.csv_response(
        "collectivites.csv", COLLECTIVITY_COLUMNS, collectivities, base_url(request)
    )


def collectivities_json(request):
    collectivities = Collectivity.objects.with_initiative_counts()
    return streams.json_response(
        "collectivites.json", COLLECTIVITY_COLUMNS, collectivities, base_url(request)
    )


def initiative_schema(request):
    return JsonResponse(
        describe.table_schema("initiatives", INITIATIVE_COLUMNS, base_url(request)),
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )


def collectivity_schema(request):
    return JsonResponse(
        describe.table_schema("collectivites", COLLECTIVITY_COLUMNS, base_url(request)),
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )


def open_data_readme(request):
    text = describe.readme(
        {"initiatives": INITIATIVE_COLUMNS, "collectivites": COLLECTIVITY_COLUMNS},
        base_url(request),
    )
    return HttpResponse(text, content_type="text/markdown; charset=utf-8")


def dcat_catalogue(request):
    last = Initiative.objects.published().aggregate(last=Max("updated_at"))["last"]
    return JsonResponse(
        describe.dcat_catalogue(base_url(request), last),
        content_type="application/ld+json",
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
