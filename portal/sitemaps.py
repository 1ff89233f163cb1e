from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from initiatives.models import Collectivity, Department, Initiative, Theme
from vigilance.models import VigilancePoint


class InitiativeSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return Initiative.objects.published().order_by("pk")

    def lastmod(self, item):
        return item.updated_at


class CollectivitySitemap(Sitemap):
    def items(self):
        return Collectivity.objects.with_initiative_counts().order_by("pk")


class ReferenceSitemap(Sitemap):
    def items(self):
        return [
            *Department.objects.all(),
            *Theme.objects.all(),
            *VigilancePoint.objects.all(),
        ]


class PageSitemap(Sitemap):
    def items(self):
        return [
            "home",
            "initiatives:list",
            "initiatives:collectivity_list",
            "initiatives:department_list",
            "surveys:key_figures",
            "surveys:results",
            "vigilance:list",
            "about",
            "legal",
            "privacy",
            "accessibility",
        ]

    def location(self, item):
        return reverse(item)


SITEMAPS = {
    "pages": PageSitemap,
    "initiatives": InitiativeSitemap,
    "collectivites": CollectivitySitemap,
    "references": ReferenceSitemap,
}
