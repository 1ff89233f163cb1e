"""The /donnees/ routes, named in the catalogue's namespace: each file of each
dataset at its name, "initiatives:data_<route>_<format>" (the dataset table)."""

from django.urls import path

from . import views
from .datasets import DATASETS

urlpatterns = [
    path("donnees/", views.open_data, name="data"),
    path("donnees/README.md", views.readme, name="data_readme"),
    path("donnees/catalogue.jsonld", views.dcat_catalogue, name="data_catalogue"),
]
for dataset in DATASETS.values():
    for format, name in dataset.files.items():
        view, kwargs = views.data_file, {"dataset": dataset.key, "format": format}
        if format == "schema":
            view, kwargs = views.schema, {"dataset": dataset.key}
        urlpatterns.append(
            path(f"donnees/{name}", view, kwargs, name=dataset.route_name(format))
        )
