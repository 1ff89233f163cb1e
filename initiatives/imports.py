"""Load the reference geography and the publication's catalogue into the database.

Every loader is idempotent: it matches rows on an official code or a slug, writes
only what differs, and reports what it created and changed.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import slugify

from .models import Category, Collectivity, Department, Initiative, Region, Theme

FIXTURES = settings.BASE_DIR / "fixtures"
GEOGRAPHY = FIXTURES / "geography"
PUBLICATION = (
    "Villes Internet et Villes de France, « Numérique et gestion de crise locale : "
    "des enseignements pour penser l'avenir des villes » (2021)"
)


@dataclass
class Report:
    """Count what a loader created and changed, per kind of row."""

    created: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, created: int = 0, changed: int = 0) -> None:
        self.created[name] = self.created.get(name, 0) + created
        self.changed[name] = self.changed.get(name, 0) + changed

    def merge(self, other: "Report") -> None:
        for name in other.created:
            self.add(name, other.created[name], other.changed[name])

    @property
    def is_empty(self) -> bool:
        return not any(self.created.values()) and not any(self.changed.values())

    def lines(self) -> list[str]:
        return [
            f"{name} : {self.created[name]} créé(s), {self.changed[name]} modifié(s)"
            for name in self.created
        ]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_table(path: Path) -> list[dict[str, Any]]:
    """Read a trimmed geography file: {"columns": [...], "rows": [[...], ...]}."""
    data = read_json(path)
    return [dict(zip(data["columns"], row, strict=True)) for row in data["rows"]]


def sync_row(
    model: type[models.Model],
    lookup: dict[str, Any],
    values: dict[str, Any],
    create_only: dict[str, Any] | None = None,
) -> tuple[models.Model, bool, bool]:
    """Create or update one row, saving only when a value differs.

    Return (row, created, changed). `create_only` values are set on creation and
    never overwritten, so a second run changes nothing (not even `updated_at`).
    """
    row = model.objects.filter(**lookup).first()
    if row is None:
        row = model(**lookup, **values, **(create_only or {}))
        row.full_clean()
        row.save()
        return row, True, False
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if changed:
        for name in changed:
            setattr(row, name, values[name])
        row.full_clean()
        row.save()
    return row, False, bool(changed)


def sync_m2m(row: models.Model, name: str, targets: Iterable[models.Model]) -> bool:
    """Make a many-to-many relation hold exactly `targets`; return whether it moved."""
    manager = getattr(row, name)
    wanted = {target.pk for target in targets}
    if set(manager.values_list("pk", flat=True)) == wanted:
        return False
    manager.set(wanted)
    return True


def load_regions_and_departments() -> Report:
    report = Report()
    for item in read_table(GEOGRAPHY / "regions.json"):
        _, created, changed = sync_row(
            Region, {"code": item["code"]}, {"name": item["name"]}
        )
        report.add("régions", created, changed)
    regions = {region.code: region for region in Region.objects.all()}
    for item in read_table(GEOGRAPHY / "departments.json"):
        _, created, changed = sync_row(
            Department,
            {"code": item["code"]},
            {"name": item["name"], "region": regions[item["region"]]},
        )
        report.add("départements", created, changed)
    return report


def collectivity_rows() -> list[dict[str, Any]]:
    """Read every commune and intercommunality of the reference geography. An
    intercommunality's population is its members' (the communes' legal
    populations, one vintage), not the DGCL's figure of another year."""
    rows = [
        {
            "code": item["code"],
            "name": item["name"],
            "kind": Collectivity.Kind.COMMUNE,
            "department": item["department"],
            "siren": item["siren"] or "",
            "population": item["population"],
            "postcodes": item["postcodes"],
        }
        for item in read_table(GEOGRAPHY / "communes.json")
    ]
    populations = {row["code"]: row["population"] for row in rows}
    rows += [
        {
            "code": item["siren"],
            "name": item["name"],
            "kind": item["kind"],
            "department": item["department"],
            "siren": item["siren"],
            "population": members_population(item, populations) or item["population"],
            "postcodes": "",
            "members": item["members"],
        }
        for item in read_table(GEOGRAPHY / "epcis.json")
    ]
    return rows


def members_population(item: dict[str, Any], populations: dict[str, int]) -> int:
    """The sum of an intercommunality's members' populations (0 if none known)."""
    return sum(populations.get(code) or 0 for code in item["members"])


def collectivity_slug(row: dict[str, Any]) -> str:
    """Name a commune by its name and department ("ajaccio-2a"), since 1 441
    commune names exist in several departments; an intercommunality by its name."""
    if row["kind"] == Collectivity.Kind.COMMUNE:
        return slugify(f"{row['name']} {row['department']}")
    return slugify(row["name"])


def load_collectivities() -> Report:
    """Create or update every commune and intercommunality, and EPCI members.

    Runs in a few bulk queries: the reference holds about 36 000 rows.
    """
    report = Report()
    departments = dict(Department.objects.values_list("code", "pk"))
    existing = {row.code: row for row in Collectivity.objects.all()}
    used_slugs = {row.slug for row in existing.values()}
    fields = ["name", "kind", "department_id", "siren", "population", "postcodes"]
    to_create, to_update = [], []
    rows = collectivity_rows()
    for row in rows:
        values = {
            "name": row["name"],
            "kind": row["kind"],
            "department_id": departments[row["department"]],
            "siren": row["siren"],
            "population": row["population"],
            "postcodes": row["postcodes"],
        }
        current = existing.get(row["code"])
        if current is None:
            slug = collectivity_slug(row)
            if slug in used_slugs:
                slug = f"{slug}-{row['code'].lower()}"
            used_slugs.add(slug)
            to_create.append(Collectivity(code=row["code"], slug=slug, **values))
        elif any(getattr(current, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(current, name, value)
            to_update.append(current)
    Collectivity.objects.bulk_create(to_create, batch_size=2000)
    Collectivity.objects.bulk_update(to_update, fields, batch_size=2000)
    report.add("collectivités", len(to_create), len(to_update))
    report.merge(load_members(rows))
    return report


def load_members(rows: list[dict[str, Any]]) -> Report:
    report = Report()
    ids = dict(Collectivity.objects.values_list("code", "pk"))
    Membership = Collectivity.members.through
    wanted = {
        (ids[row["code"]], ids[member])
        for row in rows
        if "members" in row
        for member in row["members"]
    }
    current = set(
        Membership.objects.values_list("from_collectivity_id", "to_collectivity_id")
    )
    Membership.objects.bulk_create(
        [
            Membership(from_collectivity_id=epci, to_collectivity_id=commune)
            for epci, commune in sorted(wanted - current)
        ],
        batch_size=5000,
    )
    stale = current - wanted
    for epci, commune in stale:
        Membership.objects.filter(
            from_collectivity_id=epci, to_collectivity_id=commune
        ).delete()
    report.add("adhésions aux intercommunalités", len(wanted - current), len(stale))
    return report


def load_geography() -> Report:
    report = load_regions_and_departments()
    report.merge(load_collectivities())
    return report


def load_labels(labels: list[dict[str, Any]]) -> Report:
    """Record the Villes Internet labels printed by the publication."""
    report = Report()
    for label in labels:
        _, _, changed = sync_row(
            Collectivity,
            {"code": label["collectivity"]},
            {"label_level": label["level"], "label_year": label["year"]},
        )
        report.add("labels Villes Internet", 0, changed)
    return report


def load_categories_and_themes(data: dict[str, Any]) -> Report:
    report = Report()
    for item in data["categories"]:
        slug, values = item["slug"], {k: v for k, v in item.items() if k != "slug"}
        _, created, changed = sync_row(Category, {"slug": slug}, values)
        report.add("catégories", created, changed)
    for item in data["themes"]:
        slug, values = item["slug"], {k: v for k, v in item.items() if k != "slug"}
        _, created, changed = sync_row(Theme, {"slug": slug}, values)
        report.add("thèmes", created, changed)
    return report


def load_initiatives(
    records: list[dict[str, Any]], survey: models.Model | None = None
) -> Report:
    """Create or update the publication's initiatives, published, by slug."""
    report = Report()
    collectivities = Collectivity.objects.in_bulk(
        [record["collectivity"] for record in records], field_name="code"
    )
    categories = Category.objects.in_bulk(field_name="slug")
    themes = Theme.objects.in_bulk(field_name="slug")
    VigilancePoint = Initiative.vigilance_points.field.related_model
    points = VigilancePoint.objects.in_bulk(field_name="slug")
    for record in records:
        values = {
            "title": record["title"],
            "collectivity": collectivities[record["collectivity"]],
            "category": categories[record["category"]],
            "survey": survey,
            "summary": record["summary"],
            "description": record["description"],
            "results": record["results"],
            "period": record["period"],
            "outcome": record["outcome"],
            "is_featured": record["is_featured"],
            "status": Initiative.Status.PUBLISHED,
            "source_note": record["source_note"],
        }
        initiative, created, changed = sync_row(
            Initiative,
            {"slug": record["slug"]},
            values,
            create_only={"published_at": timezone.now()},
        )
        moved = sync_m2m(initiative, "themes", [themes[s] for s in record["themes"]])
        moved |= sync_m2m(
            initiative,
            "vigilance_points",
            [points[slug] for slug in record["vigilance_points"]],
        )
        report.add("initiatives", created, changed or (moved and not created))
    return report
