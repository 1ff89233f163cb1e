"""What gunicorn's master does once before forking its workers
(portal/gunicorn_conf.py): the work every worker would otherwise repeat on its
first requests, and again after each recycling, while visitors wait."""

from pathlib import Path

from django.template import engines
from django.urls import get_resolver
from rest_framework.settings import api_settings


def warm():
    """Compile the project's templates, fill the URL resolver and import the
    API's renderers, pagination and throttles. Opens no database or cache
    connection: workers must not share sockets opened by their master."""
    get_resolver().reverse_dict  # noqa: B018 (reading it fills the resolver)
    for engine in engines.all():
        for directory in engine.dirs:
            for path in sorted(Path(directory).rglob("*")):
                if path.is_file():
                    engine.get_template(path.relative_to(directory).as_posix())
    for name in (
        "DEFAULT_RENDERER_CLASSES",
        "DEFAULT_PAGINATION_CLASS",
        "DEFAULT_THROTTLE_CLASSES",
        "DEFAULT_FILTER_BACKENDS",
    ):
        getattr(api_settings, name)
