"""Load the whole seed: geography, then the publication's survey and catalogue."""

import csv
import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.datastructures import MultiValueDict

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

from .forms import CONTACT_FIELDS, INITIATIVE_FIELDS, AnswerForm
from .models import KeyFigure, Survey
from .submissions import create_submission


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


ANSWER_COLUMNS = ["collectivity_code", *INITIATIVE_FIELDS, *CONTACT_FIELDS, "consent"]
LIST_COLUMNS = {"themes", "vigilance_points"}
MAX_ANSWER_ROWS = 2000


@dataclass
class AnswerRow:
    number: int
    title: str
    collectivity: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    dry_run: bool
    rows: list[AnswerRow] = field(default_factory=list)
    created: list[Any] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(1 for row in self.rows if row.errors)


def answer_data(record: dict[str, str]) -> MultiValueDict:
    """Turn a CSV record into form data: lists split on "|"."""
    data = MultiValueDict()
    for name in ANSWER_COLUMNS:
        value = (record.get(name) or "").strip()
        if name in LIST_COLUMNS:
            data.setlist(name, [item.strip() for item in value.split("|") if item])
        else:
            data[name] = value
    return data


def import_answers(upload, survey: Survey, dry_run: bool = True) -> ImportResult:
    """Check every row of a CSV of survey answers; unless `dry_run` or a row is
    invalid, create them all, waiting for moderation, in one transaction."""
    result = ImportResult(dry_run=dry_run)
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        result.rows.append(AnswerRow(0, "", errors=["Le fichier n'est pas en UTF-8."]))
        return result
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in ANSWER_COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        message = "Colonnes manquantes : " + ", ".join(missing) + "."
        result.rows.append(AnswerRow(1, "", errors=[message]))
        return result
    forms = []
    for number, record in enumerate(reader, start=2):
        if number - 1 > MAX_ANSWER_ROWS:
            message = f"Plus de {MAX_ANSWER_ROWS} lignes : découpez le fichier."
            result.rows.append(AnswerRow(number, "", errors=[message]))
            break
        form = AnswerForm(answer_data(record))
        row = AnswerRow(number, (record.get("title") or "")[:200])
        if form.is_valid():
            row.collectivity = str(form.instance.collectivity)
        else:
            row.errors = [
                f"{name} : {error}" if name != "__all__" else error
                for name, errors in form.errors.items()
                for error in errors
            ]
        result.rows.append(row)
        forms.append(form)
    if dry_run or result.error_count or not forms:
        return result
    with transaction.atomic():
        for form in forms:
            submission = create_submission(
                survey,
                form.save(commit=False),
                form.contact(),
                form.save_m2m,
                notify=False,
            )
            result.created.append(submission)
    return result
