import pytest
from django.urls import reverse

from initiatives.models import Collectivity, Initiative, Theme
from surveys import stats
from surveys.models import KeyFigure, Survey
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def charts():
    return {chart.slug: chart for chart in stats.charts()}


def test_every_chart_equals_the_database():
    InitiativeFactory(title="Brouillon")  # unpublished: counted nowhere
    published = Initiative.objects.published()
    found = charts()
    for theme in Theme.objects.all():
        bar = next(b for b in found["theme"].bars if b.label == theme.name)
        assert bar.value == published.filter(themes=theme).count()
    assert found["categorie"].total == published.count()
    assert found["type"].total == published.count()
    assert found["region"].total == published.count()
    departments = {b.label: b.value for b in found["departement"].bars}
    assert (
        departments["Bouches-du-Rhône (13)"]
        == published.filter(collectivity__department__code="13").count()
    )
    assert departments["Guadeloupe (971)"] == 5
    labels = {b.label: b.value for b in found["label"].bars}
    assert labels["@@@@"] == published.filter(collectivity__label_level=4).count()
    assert (
        labels["sans label renseigné"]
        == published.filter(collectivity__label_level__isnull=True).count()
    )


def test_charts_follow_new_publications():
    before = {b.label: b.value for b in charts()["type"].bars}
    town = Collectivity.objects.get(code="248900334")
    InitiativeFactory(published=True, collectivity=town)
    after = {b.label: b.value for b in charts()["type"].bars}
    assert (
        after["communauté d'agglomération"] == before["communauté d'agglomération"] + 1
    )


def test_chart_geometry_scales_to_the_largest_bar():
    chart = charts()["categorie"]
    rows = chart.rows()
    assert max(row["width"] for row in rows) == stats.BAR_WIDTH
    assert all(0 <= row["width"] <= stats.BAR_WIDTH for row in rows)
    assert chart.summary.startswith("3 valeurs")


def test_catalogued_totals_beside_declared_ones():
    survey = Survey.objects.get()
    totals = stats.catalogued_totals(survey)
    published = Initiative.objects.published().filter(survey=survey)
    assert totals["initiatives"] == published.count()
    towns = Collectivity.objects.communes().filter(initiatives__in=published)
    assert totals["towns"] == towns.distinct().count()
    assert totals["intercommunalities"] == 2


def test_results_page_shows_charts_summaries_and_tables(client):
    response = client.get(reverse("surveys:results"))
    text = response.text
    assert response.status_code == 200
    assert text.count('role="img"') == 6 and text.count("<table>") == 7
    assert "Déclaré et catalogué" in text
    assert "<td>26</td>" in text and "<td>5</td>" in text
    assert "La plus fréquente" in text
    assert 'width="300"' in text  # the longest bar fills the chart


def test_key_figures_are_drawn(client):
    traffic = KeyFigure.objects.get(slug="trafic-internet").visual()
    assert traffic == {"kind": "gauge", "percent": 30.0}
    assert len(KeyFigure.objects.get(slug="cybersecurite").visual()["positions"]) == 4
    pupils = KeyFigure.objects.get(slug="numerique-educatif").visual()
    assert len(pupils["positions"]) == 3 and "million" in pupils["scale"]
    response = client.get(reverse("surveys:key_figures"))
    assert response.text.count('class="figure-visual"') == 7
