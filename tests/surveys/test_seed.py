import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command

from initiatives.models import (
    Category,
    Collectivity,
    Department,
    Initiative,
    Region,
    Theme,
)
from surveys.models import KeyFigure, Survey
from vigilance.models import VigilancePoint

pytestmark = pytest.mark.django_db

FIXTURES = settings.BASE_DIR / "fixtures"
RECORDS = json.loads((FIXTURES / "initiatives.json").read_text(encoding="utf-8"))


def table_rows(name):
    data = json.loads((FIXTURES / "geography" / f"{name}.json").read_text("utf-8"))
    return data["rows"]


def counts():
    models = [Region, Department, Collectivity, Category, Theme, Initiative]
    models += [Survey, KeyFigure, VigilancePoint]
    counted = {model.__name__: model.objects.count() for model in models}
    counted["members"] = Collectivity.members.through.objects.count()
    return counted


def test_seed_loads_the_whole_reference_geography():
    assert Region.objects.count() == 18
    assert Department.objects.count() == 101
    overseas = {"971", "972", "973", "974", "976"}
    assert overseas <= set(Department.objects.values_list("code", flat=True))
    assert not Department.objects.filter(code="975").exists()
    assert Department.objects.filter(code__in=["2A", "2B"]).count() == 2
    assert Collectivity.objects.communes().count() == len(table_rows("communes"))
    assert Collectivity.objects.communes().count() > 34000
    epcis = Collectivity.objects.intercommunalities()
    assert epcis.count() == len(table_rows("epcis"))
    assert set(epcis.values_list("kind", flat=True)) == {"cc", "ca", "cu", "metropole"}


def test_intercommunalities_have_their_member_communes():
    senonais = Collectivity.objects.get(code="248900334")
    assert senonais.kind == Collectivity.Kind.CA
    assert senonais.members.filter(code="89387", name="Sens").exists()
    assert senonais.department.code == "89"


def test_homonym_communes_are_told_apart_by_code_and_department():
    names = Collectivity.objects.communes().filter(name="Saint-Pierre")
    assert names.count() > 1
    assert len({c.department_id for c in names}) > 1
    assert len({c.slug for c in names}) == names.count()


def test_seed_loads_the_publication():
    assert Category.objects.count() == 3
    assert Theme.objects.count() == 5
    assert VigilancePoint.objects.count() == 4
    assert KeyFigure.objects.count() == 7
    survey = Survey.objects.get()
    assert (
        survey.declared_initiatives,
        survey.declared_towns,
        survey.declared_intercommunalities,
    ) == (97, 26, 5)
    assert (survey.opened_on.isoformat(), survey.closed_on.isoformat()) == (
        "2020-11-01",
        "2021-03-31",
    )
    assert survey.categories.count() == 3


def test_every_publication_record_is_a_published_initiative():
    assert 45 <= len(RECORDS) <= 55
    initiatives = Initiative.objects.filter(slug__in=[r["slug"] for r in RECORDS])
    assert initiatives.count() == len(RECORDS)
    assert initiatives.published().count() == len(RECORDS)
    # Nothing padded: the catalogue holds fewer initiatives than were declared.
    assert initiatives.count() < Survey.objects.get().declared_initiatives
    for initiative in initiatives.prefetch_related("themes"):
        assert initiative.themes.exists(), initiative.slug
        assert initiative.source_note, initiative.slug
        assert initiative.survey is not None


def test_beauvais_market_keeps_the_publication_figures():
    beauvais = Initiative.objects.get(collectivity__code="60057", is_featured=True)
    assert "230" in beauvais.results and "11" in beauvais.results
    assert beauvais.period == Initiative.Period.FIRST_LOCKDOWN


@pytest.mark.parametrize(
    ("code", "level", "year"),
    [("49328", 3, 2019), ("13056", 4, 2021), ("60057", 4, 2021), ("62119", 4, 2020)],
)
def test_focus_practices_are_featured_with_their_label(code, level, year):
    collectivity = Collectivity.objects.get(code=code)
    assert (collectivity.label_level, collectivity.label_year) == (level, year)
    assert collectivity.initiatives.published().featured().count() == 1


def test_only_the_four_focus_practices_are_featured():
    assert Initiative.objects.featured().count() == 4


@pytest.mark.parametrize(
    ("name", "department"),
    [
        ("Les Abymes", "971"),
        ("Ajaccio", "2A"),
        ("Romans-sur-Isère", "26"),
        ("Fondettes", "37"),
        ("Saint-Égrève", "38"),
        ("Villiers-le-Bel", "95"),
    ],
)
def test_publication_geography_is_corrected(name, department):
    seeded = Collectivity.objects.filter(name=name, initiatives__isnull=False)
    collectivity = seeded.distinct().get()
    assert collectivity.department.code == department


def test_seeded_collectivities_are_known_by_official_code():
    codes = {record["collectivity"] for record in RECORDS}
    seeded = Collectivity.objects.filter(code__in=codes)
    assert seeded.count() == len(codes)
    assert seeded.intercommunalities().count() == 2


def test_key_figures_carry_source_and_period():
    for figure in KeyFigure.objects.all():
        assert figure.source and figure.period and figure.publication
        assert figure.display_value and figure.explanation
    traffic = KeyFigure.objects.get(slug="trafic-internet")
    assert traffic.display_value == "+30 %" and traffic.source.startswith("ARCEP")


def test_initiatives_link_to_the_vigilance_points_they_touch():
    cyber = VigilancePoint.objects.get(slug="cybersecurite")
    towns = set(cyber.initiatives.values_list("collectivity__code", flat=True))
    assert {"62119", "97101"} <= towns


def test_seed_command_is_idempotent():
    before = counts()
    stamps = dict(Initiative.objects.values_list("slug", "updated_at"))
    out = io.StringIO()
    call_command("load_seed", stdout=out)
    assert "Rien à changer" in out.getvalue()
    assert counts() == before
    assert dict(Initiative.objects.values_list("slug", "updated_at")) == stamps


def test_seed_command_restores_edited_seed_rows():
    Initiative.objects.filter(collectivity__code="60057").update(title="Modifié")
    Collectivity.objects.filter(code="13056").update(name="Martigue")
    out = io.StringIO()
    call_command("load_seed", stdout=out)
    assert "Données chargées" in out.getvalue()
    assert Collectivity.objects.get(code="13056").name == "Martigues"
    assert not Initiative.objects.filter(title="Modifié").exists()


def test_an_intercommunality_counts_its_members_population():
    epci = Collectivity.objects.get(code="248900334")  # CA du Grand Sénonais
    members = epci.members.all()
    assert members.count() > 1
    assert epci.population == sum(member.population for member in members)
