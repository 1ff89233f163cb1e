"""Load the publication's four vigilance points."""

from typing import Any

from initiatives.imports import Report, sync_row

from .models import VigilancePoint


def load_vigilance_points(items: list[dict[str, Any]]) -> Report:
    report = Report()
    for item in items:
        values = {key: value for key, value in item.items() if key != "slug"}
        _, created, changed = sync_row(VigilancePoint, {"slug": item["slug"]}, values)
        report.add("points de vigilance", created, changed)
    return report
