from functools import partial

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters

from core.viewsets import ReadOnlyViewSet

from .facets.counts import selection_sizes
from .facets.planning import sized
from .filters import CollectivityFilter, InitiativeFilter
from .models import Category, Collectivity, Department, Initiative, Region, Theme
from .serializers import (
    CategorySerializer,
    CollectivitySerializer,
    DepartmentSerializer,
    InitiativeSerializer,
    RegionSerializer,
    ThemeSerializer,
)
from .views import IndexPaginator


class SelectionBackend(DjangoFilterBackend):
    """Filter as usual, and keep the FilterSet on the view for its pagination."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        view.selection = filterset
        return filterset


class InitiativeViewSet(ReadOnlyViewSet):
    """Les initiatives publiées. La liste accepte exactement les paramètres de la
    page /initiatives/ (mêmes filtres, même recherche) : plusieurs valeurs d'un
    même paramètre sont combinées par OU, des paramètres différents par ET."""

    queryset = Initiative.objects.published().for_detail()
    serializer_class = InitiativeSerializer
    filterset_class = InitiativeFilter
    filter_backends = [SelectionBackend, filters.OrderingFilter]
    lookup_field = "slug"
    ordering_fields = ["title", "published_at", "updated_at"]

    def paginate_queryset(self, queryset):
        """Page like the list page: ids first, and the total read from the facet
        pairs when the selection allows it (PostgreSQL), not counted."""
        selection = getattr(self, "selection", None)
        sizes = selection_sizes(selection) if selection is not None else None
        if sizes is not None:
            queryset = sized(queryset, sizes)
        # The page's rows by primary key, without the selection's conditions.
        rows = self.get_queryset()
        self.paginator.django_paginator_class = partial(
            IndexPaginator, count=None if sizes is None else sizes.selection, rows=rows
        )
        return super().paginate_queryset(queryset)


class CollectivityViewSet(ReadOnlyViewSet):
    """Les communes et intercommunalités du référentiel officiel (INSEE, DGCL),
    désignées par leur code INSEE (commune) ou SIREN (intercommunalité)."""

    queryset = Collectivity.objects.select_related("department__region")
    serializer_class = CollectivitySerializer
    filterset_class = CollectivityFilter
    lookup_field = "code"
    ordering_fields = ["name", "code", "population"]


class DepartmentViewSet(ReadOnlyViewSet):
    """Les 101 départements, désignés par leur code INSEE (13, 2A, 971…)."""

    queryset = Department.objects.select_related("region")
    serializer_class = DepartmentSerializer
    lookup_field = "code"
    ordering_fields = ["code", "name"]


class RegionViewSet(ReadOnlyViewSet):
    """Les 18 régions, désignées par leur code INSEE."""

    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    lookup_field = "code"
    ordering_fields = ["code", "name"]


class ThemeViewSet(ReadOnlyViewSet):
    """Les cinq thèmes de la publication."""

    queryset = Theme.objects.all()
    serializer_class = ThemeSerializer
    lookup_field = "slug"
    ordering_fields = ["order", "name"]


class CategoryViewSet(ReadOnlyViewSet):
    """Les trois catégories de l'appel à idées."""

    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    lookup_field = "slug"
    ordering_fields = ["order", "name"]
