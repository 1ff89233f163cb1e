"""API conventions shared by every viewset: pagination, throttle, errors.

Kept apart from the router, which imports the viewsets: DRF imports this module
while loading its settings."""

import logging

from django.conf import settings
from rest_framework import exceptions, pagination
from rest_framework.throttling import BaseThrottle

from core import ratelimit
from core.clients import client_ip
from core.logs import security_event


class Pagination(pagination.PageNumberPagination):
    """Pages of 20 by default, up to 100 with `page_size`."""

    page_size_query_param = "page_size"
    max_page_size = 100


class AnonymousThrottle(BaseThrottle):
    """Throttle API clients at API_ANONYMOUS_RATE ("120/minute"), read at each
    call (DRF reads its own setting once, at import). The client is the one
    identity of core/clients.py, never a header it can rotate; its counter
    lives where rate limits hold (core/ratelimit.py)."""

    def allow_request(self, request, view):
        limit = ratelimit.Limit.parse("api", settings.API_ANONYMOUS_RATE)
        self.verdict = ratelimit.hit(limit, client_ip(request) or "")
        return self.verdict.allowed

    def wait(self):
        return self.verdict.retry_after


def handle_exception(exc, context):
    """Answer every API error in JSON with a readable `detail`; invalid query
    parameters are named, with their messages under `errors`."""
    # Imported here: rest_framework.views reads the settings that name this module.
    from rest_framework.views import exception_handler

    response = exception_handler(exc, context)
    if isinstance(exc, exceptions.Throttled):
        request = context.get("request")
        security_event("rate_limited", request, logging.WARNING, limit="api")
    if response is not None and isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {}
        names = ", ".join(errors) or "requête"
        response.data = {
            "detail": f"Paramètre invalide : {names}.",
            "errors": errors,
        }
    return response
