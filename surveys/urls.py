from django.urls import path

from . import views

app_name = "surveys"

urlpatterns = [
    path("enquete/", views.survey_results, name="results"),
    path("chiffres-cles/", views.key_figure_list, name="key_figures"),
    path("proposer/", views.submission_create, name="submission"),
    path("proposer/merci/", views.submission_done, name="submission_done"),
]
