"""Response headers that Django's own middleware does not set."""

import re

from django.conf import settings


class CrossOriginResourcePolicyMiddleware:
    """Keep the site's resources to its own pages, except the open data (API and
    downloads), which any origin may embed: the same paths CORS opens."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.open_data = re.compile(settings.CORS_URLS_REGEX)

    def __call__(self, request):
        response = self.get_response(request)
        policy = "cross-origin" if self.open_data.match(request.path) else "same-origin"
        response.headers.setdefault("Cross-Origin-Resource-Policy", policy)
        return response
