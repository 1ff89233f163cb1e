from rest_framework import viewsets

from .models import VigilancePoint
from .serializers import VigilancePointSerializer


class VigilancePointViewSet(viewsets.ReadOnlyModelViewSet):
    """Les quatre points de vigilance de la publication."""

    queryset = VigilancePoint.objects.all()
    serializer_class = VigilancePointSerializer
    lookup_field = "slug"
    ordering_fields = ["order", "title"]
