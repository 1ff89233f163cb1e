import io

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the seed data once into the test database: every test starts from
    the portal as `make run` serves it, and rolls its own changes back."""
    with django_db_blocker.unblock():
        call_command("load_seed", stdout=io.StringIO())


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        "equipe",
        "equipe@example.org",
        "motdepasse-equipe",
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
