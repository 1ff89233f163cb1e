import pytest
from django.urls import reverse

from initiatives.models import Initiative
from surveys.models import KeyFigure

pytestmark = pytest.mark.django_db


def test_key_figures_page_shows_each_figure_with_source_and_period(
    client, django_assert_num_queries
):
    with django_assert_num_queries(1):
        response = client.get(reverse("surveys:key_figures"))
    assert response.status_code == 200
    for figure in KeyFigure.objects.all():
        assert f'id="{figure.slug}"' in response.text
        assert figure.display_value in response.text
        assert figure.period in response.text
    assert "ANSSI" in response.text and "FEVAD" in response.text


def test_survey_page_compares_declared_and_catalogued(client):
    response = client.get(reverse("surveys:results"))
    assert response.status_code == 200
    catalogued = Initiative.objects.published().count()
    assert f"<td>97</td><td>{catalogued}</td>" in response.text
    assert "Villes Internet et Villes de France" in response.text
