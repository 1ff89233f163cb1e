import pytest
from django.urls import reverse

from tests.factories import InitiativeFactory
from vigilance.models import VigilancePoint

pytestmark = pytest.mark.django_db


def test_vigilance_list_counts_published_initiatives(client):
    response = client.get(reverse("vigilance:list"))
    assert response.status_code == 200
    points = list(response.context["points"])
    assert [p.slug for p in points][:2] == [
        "acculturation-des-services",
        "cybersecurite",
    ]
    cyber = next(p for p in points if p.slug == "cybersecurite")
    assert cyber.initiative_count == cyber.initiatives.published().count() > 0


@pytest.mark.parametrize("rows", [1, 30])
def test_vigilance_point_page(client, django_assert_num_queries, rows):
    point = VigilancePoint.objects.get(slug="impact-environnemental")
    for initiative in InitiativeFactory.create_batch(rows, published=True):
        initiative.vigilance_points.add(point)
    draft = InitiativeFactory(title="Brouillon")
    draft.vigilance_points.add(point)
    # point, its initiatives (cards)
    with django_assert_num_queries(2):
        response = client.get(point.get_absolute_url())
    assert "CNFPT" in response.text and "Brouillon" not in response.text
    assert client.get("/vigilance/inconnu/").status_code == 404
