from core.viewsets import ReadOnlyViewSet

from .models import VigilancePoint
from .serializers import VigilancePointSerializer


class VigilancePointViewSet(ReadOnlyViewSet):
    """Les quatre points de vigilance de la publication."""

    queryset = VigilancePoint.objects.all()
    serializer_class = VigilancePointSerializer
    lookup_field = "slug"
    ordering_fields = ["order", "title"]
