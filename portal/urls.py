from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("initiatives.urls")),
    path("", include("surveys.urls")),
    path("vigilance/", include("vigilance.urls")),
]
