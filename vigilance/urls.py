from django.urls import path

from . import views

app_name = "vigilance"

urlpatterns = [
    path("", views.vigilance_point_list, name="list"),
    path("<slug:slug>/", views.vigilance_point_detail, name="detail"),
]
