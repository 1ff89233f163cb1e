"""Check collectivities and initiatives against the reference geography and the
model's rules, for the `check_data_quality` command and the admin's quality page.

Every check returns the problems it finds; `find_problems()` runs them all in a
handful of queries, whatever the number of collectivities (about 36 000).
"""

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.db import models
from django.urls import reverse
from django.utils import timezone

from .imports import collectivity_rows
from .models import LABEL_MAX, Collectivity, Initiative

LABEL_FIRST_YEAR = 1999
# A commune's INSEE code: its department ("01", "2A", "971") then 3 characters.
INSEE_CODE = re.compile(r"(?:\d{2}|2[AB])\d{3}")

# Problem kinds, in the order the admin page lists them, with their French heading.
KINDS = {
    "unknown_code": "Code officiel absent de la géographie de référence",
    "mismatched_code": "Collectivité différente de la géographie de référence",
    "department_mismatch": "Département incohérent avec le code INSEE",
    "label_out_of_range": "Label Villes Internet hors des valeurs permises",
    "no_theme": "Initiative publiée sans thème",
    "image_without_alt": "Image sans texte alternatif",
}


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str
    obj: models.Model
    url: str


class Reference(NamedTuple):
    name: str
    kind: str
    department: str


class CollectivityRow(NamedTuple):
    pk: int
    code: str
    name: str
    kind: str
    department: str
    label_level: int | None
    label_year: int | None


# A check on collectivity rows: (primary key, French message) for each problem.
Findings = list[tuple[int, str]]


def change_url(obj: models.Model) -> str:
    """Return the admin change page of `obj` (a path, without the host)."""
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


@functools.cache
def reference() -> dict[str, Reference]:
    """Read the reference communes (by INSEE code) and intercommunalities (by
    SIREN) from the fixtures, once per process. No query."""
    return {
        row["code"]: Reference(row["name"], row["kind"], row["department"])
        for row in collectivity_rows()
    }


def load_collectivity_rows() -> list[CollectivityRow]:
    """Load the checked fields of every collectivity as plain tuples. One query."""
    rows = Collectivity.objects.order_by("code").values_list(
        "pk", "code", "name", "kind", "department__code", "label_level", "label_year"
    )
    return [CollectivityRow(*row) for row in rows]


def expected_department(insee_code: str) -> str | None:
    """Return the department an INSEE code belongs to ("13", "2A", "971"), or
    None if the code is not shaped like an INSEE code."""
    if not INSEE_CODE.fullmatch(insee_code):
        return None
    return insee_code[:3] if insee_code.startswith("97") else insee_code[:2]


def label_issues(level: int | None, year: int | None, this_year: int) -> list[str]:
    """Describe, in French, what is wrong with a label level and year."""
    issues = []
    if level is not None and not 0 <= level <= LABEL_MAX:
        issues.append(f"niveau {level} hors de l'intervalle 0 à {LABEL_MAX}")
    if year is not None and level is None:
        issues.append(f"année {year} sans niveau de label")
    if year is not None and not LABEL_FIRST_YEAR <= year <= this_year + 1:
        issues.append(
            f"année {year} hors de l'intervalle {LABEL_FIRST_YEAR} à {this_year + 1}"
        )
    return issues


def check_unknown_codes(rows: Iterable[CollectivityRow]) -> Findings:
    """Find collectivities whose code the reference geography does not know.
    No query."""
    known = reference()
    return [
        (row.pk, f"{row.name} : le code {row.code} est inconnu de la référence.")
        for row in rows
        if row.code not in known
    ]


def check_mismatched_codes(rows: Iterable[CollectivityRow]) -> Findings:
    """Find collectivities whose name, kind or department differs from the
    reference row for their code. No query."""
    known = reference()
    findings = []
    for row in rows:
        ref = known.get(row.code)
        if ref is None:
            continue
        differences = [
            f"{label} « {actual} » au lieu de « {wanted} »"
            for label, actual, wanted in [
                ("nom", row.name, ref.name),
                ("nature", row.kind, ref.kind),
                ("département", row.department, ref.department),
            ]
            if actual != wanted
        ]
        if differences:
            message = f"{row.name} ({row.code}) : {', '.join(differences)}."
            findings.append((row.pk, message))
    return findings


def check_department_prefixes(rows: Iterable[CollectivityRow]) -> Findings:
    """Find communes filed under another department than their INSEE code's
    prefix, whether or not the reference knows the code. No query."""
    findings = []
    for row in rows:
        if row.kind != Collectivity.Kind.COMMUNE:
            continue
        expected = expected_department(row.code)
        if expected is not None and expected != row.department:
            message = (
                f"{row.name} : le code INSEE {row.code} désigne le département "
                f"{expected}, pas {row.department}."
            )
            findings.append((row.pk, message))
    return findings


def check_labels(rows: Iterable[CollectivityRow]) -> Findings:
    """Find labels whose level or year is out of range, or a year without a
    level (the database forbids some of these, but data can come from
    elsewhere). No query."""
    this_year = timezone.localdate().year
    findings = []
    for row in rows:
        issues = label_issues(row.label_level, row.label_year, this_year)
        if issues:
            findings.append((row.pk, f"{row.name} : label {', '.join(issues)}."))
    return findings


def check_themes() -> list[Problem]:
    """Find published initiatives without any theme. One query."""
    initiatives = Initiative.objects.published().filter(themes__isnull=True)
    return [
        Problem(
            "no_theme",
            f"« {initiative.title} » est publiée sans thème.",
            initiative,
            change_url(initiative),
        )
        for initiative in initiatives
    ]


def check_image_alts() -> list[Problem]:
    """Find initiatives with an image but an empty or whitespace-only text
    alternative, as `Initiative.clean()` defines it. One query."""
    initiatives = Initiative.objects.exclude(image="")
    return [
        Problem(
            "image_without_alt",
            f"« {initiative.title} » a une image sans texte alternatif.",
            initiative,
            change_url(initiative),
        )
        for initiative in initiatives
        if not initiative.image_alt.strip()
    ]


def find_problems() -> list[Problem]:
    """Run every check. Three to four queries: collectivity rows, the flagged
    collectivities (none if there are none), and one per initiative check."""
    rows = load_collectivity_rows()
    findings = {
        "unknown_code": check_unknown_codes(rows),
        "mismatched_code": check_mismatched_codes(rows),
        "department_mismatch": check_department_prefixes(rows),
        "label_out_of_range": check_labels(rows),
    }
    flagged = {pk for found in findings.values() for pk, _ in found}
    collectivities = Collectivity.objects.select_related("department").in_bulk(flagged)
    problems = [
        Problem(kind, message, collectivities[pk], change_url(collectivities[pk]))
        for kind, found in findings.items()
        for pk, message in found
    ]
    return problems + check_themes() + check_image_alts()


def group_by_kind(problems: Iterable[Problem]) -> list[tuple[str, list[Problem]]]:
    """Group problems under their kind's French heading, in the order of KINDS."""
    groups: dict[str, list[Problem]] = {kind: [] for kind in KINDS}
    for problem in problems:
        groups[problem.kind].append(problem)
    return [(KINDS[kind], found) for kind, found in groups.items() if found]
