import io

import pytest
from django.core.management import call_command
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


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
def verified_login():
    """Return a function that logs a user in past the second factor, as the admin
    requires: it gives them a confirmed authenticator device, returned."""

    def login(client, user):
        device = TOTPDevice.objects.create(user=user, name="Téléphone", confirmed=True)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return device

    return login


@pytest.fixture
def staff_client(client, staff_user, verified_login):
    verified_login(client, staff_user)
    return client


@pytest.fixture
def run_tasks(monkeypatch):
    """Return a function that runs the queued background tasks (mails…) as the
    task worker does, until none is ready, and returns those that ran; a task
    that raised fails the test with its traceback. It runs inside the test's
    transaction, whose connection the worker must not close between tasks."""
    from django.utils import timezone
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run():
        start = timezone.now()
        Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="tests",
            excluded_queue_names=[],
        ).run()
        ran = list(DBTaskResult.objects.filter(started_at__gte=start))
        failed = [task.traceback for task in ran if task.status == "FAILED"]
        assert not failed, "\n".join(failed)
        return ran

    return run
