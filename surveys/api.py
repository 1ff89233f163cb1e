from core.viewsets import ReadOnlyViewSet

from .models import KeyFigure, Survey
from .serializers import KeyFigureSerializer, SurveySerializer


class SurveyViewSet(ReadOnlyViewSet):
    """Les enquêtes (appels à idées) et les totaux qu'elles ont déclarés."""

    queryset = Survey.objects.prefetch_related("categories")
    serializer_class = SurveySerializer
    lookup_field = "slug"
    ordering_fields = ["opened_on", "title"]


class KeyFigureViewSet(ReadOnlyViewSet):
    """Les chiffres clés cités par la publication : instantanés datés, avec leur
    source et leur période, jamais recalculés."""

    queryset = KeyFigure.objects.all()
    serializer_class = KeyFigureSerializer
    lookup_field = "slug"
    ordering_fields = ["order", "label"]
