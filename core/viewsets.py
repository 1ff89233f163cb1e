"""The base of every API viewset (kept apart from core/rest.py, which DRF
imports while loading its settings, before its views exist)."""

from rest_framework import viewsets
from rest_framework.response import Response

from . import page_cache


class ReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """Lists and details whose data are kept in the page cache until the
    catalogue changes (core/page_cache.py). The throttle has counted the call
    before; the response is rendered every time."""

    def list(self, request, *args, **kwargs):
        return self.cached(request, super().list, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self.cached(request, super().retrieve, *args, **kwargs)

    def cached(self, request, produce, *args, **kwargs):
        data, response = page_cache.cached_data(
            request, lambda: produce(request, *args, **kwargs)
        )
        return Response(data) if response is None else response
