"""The /donnees/ pages: the open-data page, each dataset's files (CSV, JSON and
Table Schema, looked up in the dataset table), the README and the DCAT
catalogue."""

from django.db.models import Max
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render

from ..models import Initiative
from . import describe, streams
from .columns import LIST_SEPARATOR
from .datasets import DATASETS, InvalidQuery

TEXT = "text/plain; charset=utf-8"
PRETTY = {"ensure_ascii": False, "indent": 2}


def base_url(request):
    return request.build_absolute_uri("/").rstrip("/")


def open_data(request):
    published = Initiative.objects.published()
    datasets = [
        {
            "label": dataset.label,
            "files": [(name, dataset.path(f)) for f, name in dataset.files.items()],
            "csv": dataset.files["csv"],
            "fields": [column.schema() for column in dataset.columns],
        }
        for dataset in DATASETS.values()
    ]
    context = {
        "last_update": published.aggregate(last=Max("updated_at"))["last"],
        "initiative_count": published.count(),
        "datasets": datasets,
        "separator": LIST_SEPARATOR,
    }
    return render(request, "initiatives/open_data.html", context)


def data_file(request, dataset, format):
    """Stream a dataset's rows as CSV or JSON; a 400 names invalid filters."""
    dataset = DATASETS[dataset]
    try:
        rows = dataset.select(request.GET)
    except InvalidQuery as error:
        return HttpResponseBadRequest(str(error), content_type=TEXT)
    filename = dataset.files[format]
    return streams.response(format, filename, dataset.columns, rows, base_url(request))


def schema(request, dataset):
    table_schema = describe.table_schema(DATASETS[dataset], base_url(request))
    return JsonResponse(table_schema, json_dumps_params=PRETTY)


def readme(request):
    text = describe.readme(base_url(request))
    return HttpResponse(text, content_type="text/markdown; charset=utf-8")


def dcat_catalogue(request):
    last = Initiative.objects.published().aggregate(last=Max("updated_at"))["last"]
    return JsonResponse(
        describe.dcat_catalogue(base_url(request), last),
        content_type="application/ld+json",
        json_dumps_params=PRETTY,
    )
