import pytest
from django.urls import reverse

from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def test_home_lists_published_initiatives_only(client):
    draft = InitiativeFactory(title="Brouillon invisible")
    response = client.get(reverse("initiatives:home"))
    assert response.status_code == 200
    assert "Un marché primeurs en ligne" in response.text
    assert draft.title not in response.text
