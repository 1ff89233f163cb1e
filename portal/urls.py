from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.generic import TemplateView

from . import views
from .sitemaps import SITEMAPS


def page(template, **kwargs):
    return TemplateView.as_view(template_name=template, **kwargs)


urlpatterns = [
    path("", views.home, name="home"),
    path("a-propos/", page("pages/about.html"), name="about"),
    path("mentions-legales/", page("pages/legal.html"), name="legal"),
    path("confidentialite/", page("pages/privacy.html"), name="privacy"),
    path("accessibilite/", page("pages/accessibility.html"), name="accessibility"),
    path(
        "robots.txt",
        page("robots.txt", content_type="text/plain; charset=utf-8"),
        name="robots",
    ),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("admin/", admin.site.urls),
    path("", include("initiatives.urls")),
    path("", include("surveys.urls")),
    path("vigilance/", include("vigilance.urls")),
]
