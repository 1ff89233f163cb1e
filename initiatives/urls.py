from django.urls import include, path

from . import feeds, views

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
    # /donnees/: the open-data files, one route per file of the dataset table.
    path("", include("initiatives.opendata.urls")),
]
