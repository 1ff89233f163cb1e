"""The outbox: every mail is written with what it is about, sent by the task
worker, retried with back-off, and shown to staff when it fails for good."""

import datetime
import logging
from smtplib import SMTPException

import pytest
from django.apps import apps
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import models, transaction
from django.test import Client, override_settings
from django.urls import path, reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import mail as outbox
from core.logs import AdminMailHandler
from core.management.commands.task_worker import requeue_stale_tasks
from core.models import Mail
from core.validators import no_control_characters
from portal import urls as portal_urls

pytestmark = pytest.mark.django_db


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise SMTPException("mail server down")


class RefusingBackend(BaseEmailBackend):
    """A mail server the request must never reach."""

    def send_messages(self, messages):
        raise AssertionError("a mail was sent from inside the request")


FAILING = {"default": {"BACKEND": "tests.core.test_mail.FailingBackend"}}
REFUSING = {"default": {"BACKEND": "tests.core.test_mail.RefusingBackend"}}


def make_ready(mail_row):
    """Let the next attempt of a mail run now, as time passing would."""
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


def test_a_mail_rolled_back_with_its_row_is_never_sent(run_tasks):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.queue_mail("essai", "Objet", "Texte", ["a@example.org"])
        raise RuntimeError("the row it was about failed")
    run_tasks()
    assert not Mail.objects.exists()
    assert mail.outbox == []


def test_a_mail_without_recipient_is_not_queued():
    assert outbox.queue_mail("essai", "Objet", "Texte", ["", ""]) is None
    assert not Mail.objects.exists()


def test_a_failing_mail_server_is_retried_with_back_off_then_shown_to_staff(
    run_tasks, staff_client
):
    queued = outbox.queue_mail("essai", "Objet", "Texte", ["a@example.org"])
    delays = []
    with override_settings(MAILERS=FAILING):
        for _ in range(outbox.MAX_ATTEMPTS):
            run_tasks()
            queued.refresh_from_db()
            waiting = DBTaskResult.objects.filter(status="READY")
            delays += [
                round((task.run_after - timezone.now()).total_seconds() / 60)
                for task in waiting
            ]
            make_ready(queued)
    assert queued.status == Mail.Status.FAILED
    assert queued.attempts == outbox.MAX_ATTEMPTS
    assert "mail server down" in queued.last_error
    # 1 min, 5 min, 30 min, 2 h, 6 h, 18 h: growing, about a day in all.
    assert delays == [delay // 60 for delay in outbox.BACKOFF]
    assert mail.outbox == []

    index = staff_client.get(reverse("admin:index"))
    assert "1 courriel n'a pas pu partir" in index.text
    changelist = reverse("admin:core_mail_changelist")
    response = staff_client.post(
        changelist, {"action": "resend_failed", "_selected_action": [queued.pk]}
    )
    assert response.status_code == 302
    run_tasks()
    queued.refresh_from_db()
    assert queued.status == Mail.Status.SENT
    assert [m.to for m in mail.outbox] == [["a@example.org"]]


def test_a_mail_is_sent_once_though_its_task_runs_twice(run_tasks):
    queued = outbox.queue_mail("essai", "Objet", "Texte", ["a@example.org"])
    run_tasks()
    assert outbox.deliver.call(queued.pk) == "nothing to do"
    assert len(mail.outbox) == 1


def test_a_task_left_running_by_a_dead_worker_runs_again(run_tasks):
    queued = outbox.queue_mail("essai", "Objet", "Texte", ["a@example.org"])
    DBTaskResult.objects.update(
        status="RUNNING", started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    run_tasks()
    assert mail.outbox == []  # nothing is ready: the task looks busy
    assert requeue_stale_tasks() == 1
    run_tasks()
    queued.refresh_from_db()
    assert queued.status == Mail.Status.SENT


def test_a_task_running_now_is_left_to_its_worker():
    outbox.queue_mail("essai", "Objet", "Texte", ["a@example.org"])
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now())
    assert requeue_stale_tasks() == 0


# Error reports


def failing_view(request):
    raise ValueError("boom")


urlpatterns = [path("panne/", failing_view), *portal_urls.urlpatterns]
handler500 = portal_urls.handler500


@pytest.fixture
def reports_to_admins(settings):
    """The production logging of server errors (settings.LOGGING, when
    ADMIN_EMAILS is set and DEBUG off)."""
    settings.ADMINS = [("Ops", "ops@example.org")]
    logger = logging.getLogger("django.request")
    handler = AdminMailHandler()
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)


@override_settings(ROOT_URLCONF="tests.core.test_mail", MAILERS=REFUSING)
def test_error_reports_are_queued_never_sent_in_the_request(
    reports_to_admins, run_tasks, settings
):
    client = Client(raise_request_exception=False)
    statuses = [client.get("/panne/").status_code for _ in range(3)]
    assert statuses == [500, 500, 500]
    # The same error three times: one report (then one per 10 minutes).
    reports = Mail.objects.filter(kind="rapport d'erreur")
    assert reports.count() == 1
    assert reports.get().recipient_list == ["ops@example.org"]
    assert "boom" in reports.get().body
    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    }
    run_tasks()
    assert [m.to for m in mail.outbox] == [["ops@example.org"]]


def test_an_outage_503_is_not_reported(reports_to_admins):
    record = logging.LogRecord("django.request", logging.ERROR, "", 0, "x", (), None)
    record.status_code = 503
    AdminMailHandler().emit(record)
    assert not Mail.objects.exists()


# Every text field refuses control characters


PORTAL_APPS = ["initiatives", "surveys", "vigilance"]


def test_every_text_field_of_the_portal_refuses_control_characters():
    unguarded = [
        f"{model._meta.label}.{field.name}"
        for app in PORTAL_APPS
        for model in apps.get_app_config(app).get_models()
        if not model.__name__.startswith("Historical")
        for field in model._meta.get_fields()
        if isinstance(field, models.CharField | models.TextField)
        and not isinstance(field, models.SlugField | models.EmailField)
        and field.editable
        and not field.choices
        and no_control_characters not in field.validators
    ]
    assert unguarded == []
