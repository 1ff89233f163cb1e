from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView

from . import views
from .api import router
from .sitemaps import SITEMAPS

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"


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
    path(settings.ADMIN_PATH, admin.site.urls),
    path("api/", page("pages/api.html"), name="api"),
    path("api/v1/", include((router.urls, "api"))),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", views.api_docs, name="api_docs"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("media/<path:path>", views.media, name="media"),
    path("", include("initiatives.urls")),
    path("", include("surveys.urls")),
    path("vigilance/", include("vigilance.urls")),
]
