"""The read-only API: one router registers every viewset."""

from rest_framework import routers

from initiatives import api as catalogue
from surveys import api as surveys
from vigilance import api as vigilance

router = routers.DefaultRouter()
router.register("initiatives", catalogue.InitiativeViewSet, basename="initiative")
router.register(
    "collectivities", catalogue.CollectivityViewSet, basename="collectivity"
)
router.register("departments", catalogue.DepartmentViewSet, basename="department")
router.register("regions", catalogue.RegionViewSet, basename="region")
router.register("themes", catalogue.ThemeViewSet, basename="theme")
router.register("categories", catalogue.CategoryViewSet, basename="category")
router.register("key-figures", surveys.KeyFigureViewSet, basename="keyfigure")
router.register(
    "vigilance-points", vigilance.VigilancePointViewSet, basename="vigilancepoint"
)
router.register("surveys", surveys.SurveyViewSet, basename="survey")
