"""Load the whole seed: geography, then the publication's survey and catalogue."""

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from initiatives.imports import (
    FIXTURES,
    PUBLICATION,
    Report,
    load_categories_and_themes,
    load_geography,
    load_initiatives,
    load_labels,
    read_json,
    sync_m2m,
    sync_row,
)
from initiatives.models import Category
from vigilance.imports import load_vigilance_points

from .models import KeyFigure, Survey


def load_survey(item: dict[str, Any]) -> tuple[Survey, Report]:
    report = Report()
    values = {
        key: value
        for key, value in item.items()
        if key not in {"slug", "categories", "opened_on", "closed_on"}
    }
    values["opened_on"] = datetime.date.fromisoformat(item["opened_on"])
    values["closed_on"] = datetime.date.fromisoformat(item["closed_on"])
    survey, created, changed = sync_row(Survey, {"slug": item["slug"]}, values)
    categories = Category.objects.filter(slug__in=item["categories"])
    moved = sync_m2m(survey, "categories", categories)
    report.add("enquêtes", created, changed or (moved and not created))
    return survey, report


def load_key_figures(items: list[dict[str, Any]]) -> Report:
    report = Report()
    for item in items:
        values = {key: value for key, value in item.items() if key != "slug"}
        values["value"] = Decimal(item["value"])
        values["publication"] = PUBLICATION
        _, created, changed = sync_row(KeyFigure, {"slug": item["slug"]}, values)
        report.add("chiffres clés", created, changed)
    return report


@transaction.atomic
def load_seed() -> Report:
    """Load everything the portal starts with, all or nothing."""
    data = read_json(FIXTURES / "publication.json")
    report = load_geography()
    report.merge(load_categories_and_themes(data))
    report.merge(load_vigilance_points(data["vigilance_points"]))
    survey, survey_report = load_survey(data["survey"])
    report.merge(survey_report)
    report.merge(load_key_figures(data["key_figures"]))
    report.merge(load_labels(data["labels"]))
    report.merge(load_initiatives(read_json(FIXTURES / "initiatives.json"), survey))
    return report
