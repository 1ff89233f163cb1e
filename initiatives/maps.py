"""Draw the departments' choropleth map as inline SVG, on the server.

The outlines come from fixtures/geography/departments-map.json (see
extract_map.py there). The drawing is hidden from assistive technologies: the
page shows the same figures in a table beside it.
"""

import functools
import hashlib
import json
import logging
import math

from django.conf import settings
from django.core.cache import caches
from django.utils.connection import ConnectionProxy
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from core.reverse import cached_reverse

logger = logging.getLogger(__name__)

# Drawn maps go to the cache of rendered markup, with the pages.
cache = ConnectionProxy(caches, "pages")
# Bump when the drawing changes (markup, outlines) to retire cached maps.
CACHE_VERSION = 1
CACHE_TIMEOUT = 60 * 60
ZERO_LABEL = "aucune"

Bucket = tuple[int, int | None, str]


@functools.cache
def map_data() -> dict:
    """Load the outlines once per process."""
    path = settings.BASE_DIR / "fixtures" / "geography" / "departments-map.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _nice(value: float) -> int:
    """Round to one significant digit (2.3 → 2, 245 → 200, 3834 → 4000)."""
    if value < 1:
        return 1
    return int(round(value, -math.floor(math.log10(value))))


def _bucket_label(low: int, high: int | None) -> str:
    if high is None:
        return f"{number_format(low, force_grouping=True)} et plus"
    if low == high:
        return number_format(low, force_grouping=True)
    low_text = number_format(low, force_grouping=True)
    return f"{low_text} à {number_format(high, force_grouping=True)}"


def buckets(counts: dict[str, int]) -> list[Bucket]:
    """Split the counts into 5 classes: none, then 4 from 1 to the maximum.

    Counts pile up in a few departments, so the positive classes start at
    rounded powers of the maximum (max ** 1/4, 1/2, 3/4): 1, 2 à 3, 4 à 6,
    7 et plus when it is 13; 1 à 19 … 4 000 et plus when it is 60 000.
    """
    top = max(counts.values(), default=0)
    lows = [1]
    for quarter in (1, 2, 3):
        lows.append(max(_nice(top ** (quarter / 4)), lows[-1] + 1))
    highs = [low - 1 for low in lows[1:]] + [None]
    return [(0, 0, ZERO_LABEL)] + [
        (low, high, _bucket_label(low, high))
        for low, high in zip(lows, highs, strict=True)
    ]


def _bucket_index(count: int, classes: list[Bucket]) -> int:
    return max((i for i, (low, _, _) in enumerate(classes) if count >= low), default=0)


def legend(counts: dict[str, int]) -> SafeString:
    """Write the colour key of department_map() as an HTML list."""
    items = format_html_join(
        "",
        '<li><span class="swatch c{}" aria-hidden="true"></span> {}</li>',
        ((i, label) for i, (_, _, label) in enumerate(buckets(counts))),
    )
    return format_html('<ul class="map-legend">{}</ul>', items)


def _title(name: str, code: str, count: int) -> str:
    if count == 0:
        figure = "aucune initiative"
    elif count == 1:
        figure = "1 initiative"
    else:
        figure = f"{number_format(count, force_grouping=True)} initiatives"
    return f"{name} ({code}) : {figure}"


def draw_map(
    counts: dict[str, int], names: dict[str, str], caption_id: str | None = None
) -> SafeString:
    """Write the SVG markup of department_map(), without the cache."""
    data = map_data()
    classes = buckets(counts)

    def link(code: str, path: str) -> SafeString:
        count = counts.get(code, 0)
        return format_html(
            '<a href="{}" tabindex="-1"><title>{}</title>'
            '<path class="c{}" d="{}"/></a>',
            cached_reverse("initiatives:department_detail", code),
            _title(names.get(code, code), code, count),
            _bucket_index(count, classes),
            path,
        )

    frames = format_html_join(
        "",
        '<rect class="map-frame" x="{}" y="{}" width="{}" height="{}"/>'
        # The tspan lets contrast checkers read the label (static/css/map.css).
        '<text class="map-label" x="{}" y="{}"><tspan>{}</tspan></text>',
        (
            (f["x"], f["y"], f["w"], f["h"], f["x"], f["y"] - 8, f["label"])
            for f in data["frames"]
        ),
    )
    shapes = [link(code, path) for code, path in data["departments"].items()]
    shapes += [link(code, path) for code, path in data["insets"].items()]
    described = format_html(' aria-describedby="{}"', caption_id) if caption_id else ""
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="{}"'
        ' aria-hidden="true" focusable="false"{}>{}{}</svg>',
        data["viewBox"],
        described,
        frames,
        mark_safe("".join(shapes)),  # noqa: S308 each shape went through format_html
    )


def _cache_key(
    counts: dict[str, int], names: dict[str, str], caption_id: str | None
) -> str:
    payload = json.dumps([sorted(counts.items()), sorted(names.items()), caption_id])
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return f"department-map:{CACHE_VERSION}:{digest}"


def department_map(
    counts: dict[str, int], names: dict[str, str], *, caption_id: str | None = None
) -> SafeString:
    """Draw the departments coloured by their count, each linking to its page.

    `counts` and `names` are keyed by department code. The markup is cached for
    an hour; a cache that fails only costs drawing it again.
    """
    key = _cache_key(counts, names, caption_id)
    try:
        markup = cache.get(key)
    except Exception:
        logger.warning("Department map cache unavailable", exc_info=True)
        markup = None
    if markup is None:
        markup = draw_map(counts, names, caption_id)
        try:
            cache.set(key, str(markup), CACHE_TIMEOUT)
        except Exception:
            logger.warning("Department map cache unavailable", exc_info=True)
    return mark_safe(markup)  # noqa: S308 draw_map wrote it and escaped every text
