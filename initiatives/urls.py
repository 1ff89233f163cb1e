from django.urls import path

from . import views

app_name = "initiatives"

urlpatterns = [
    path("", views.home, name="home"),
    path("initiatives/", views.initiative_list, name="list"),
    path("initiatives/<slug:slug>/", views.initiative_detail, name="detail"),
    path(
        "collectivites/<slug:slug>/",
        views.collectivity_detail,
        name="collectivity_detail",
    ),
    path("departements/<str:code>/", views.department_detail, name="department_detail"),
    path("themes/<slug:slug>/", views.theme_detail, name="theme_detail"),
]
