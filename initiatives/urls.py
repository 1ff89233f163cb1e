from django.urls import path

from . import feeds, views
from .opendata import views as data

app_name = "initiatives"

urlpatterns = [
    path("initiatives/", views.initiative_list, name="list"),
    path("initiatives/flux.atom", feeds.InitiativeFeed(), name="feed"),
    path("initiatives/<slug:slug>/", views.initiative_detail, name="detail"),
    path("collectivites/", views.collectivity_list, name="collectivity_list"),
    path(
        "collectivites/<slug:slug>/",
        views.collectivity_detail,
        name="collectivity_detail",
    ),
    path("departements/", views.department_list, name="department_list"),
    path("departements/<str:code>/", views.department_detail, name="department_detail"),
    path("themes/<slug:slug>/", views.theme_detail, name="theme_detail"),
    path("donnees/", data.open_data, name="data"),
    path("donnees/initiatives.csv", data.initiatives_csv, name="data_initiatives_csv"),
    path(
        "donnees/initiatives.json", data.initiatives_json, name="data_initiatives_json"
    ),
    path("donnees/schema.json", data.initiative_schema, name="data_initiatives_schema"),
    path(
        "donnees/collectivites.csv",
        data.collectivities_csv,
        name="data_collectivities_csv",
    ),
    path(
        "donnees/collectivites.json",
        data.collectivities_json,
        name="data_collectivities_json",
    ),
    path(
        "donnees/schema-collectivites.json",
        data.collectivity_schema,
        name="data_collectivities_schema",
    ),
    path("donnees/README.md", data.open_data_readme, name="data_readme"),
    path("donnees/catalogue.jsonld", data.dcat_catalogue, name="data_catalogue"),
]
