"""Mail that is never lost: a transactional outbox.

`queue_mail()` writes the message (`core.Mail`) and enqueues its delivery task
in the transaction of the row it is about: both are committed with that row or
not at all, whatever happens to the web process afterwards (a deploy's HUP, a
recycled or killed worker). The task worker (`manage.py task_worker`) sends it,
retries with back-off when the mail server fails, and after MAX_ATTEMPTS marks
it failed, where staff see it (admin, "Courriels"). Delivery is at least once:
a worker killed between the mail server's answer and the commit sends again.

Error reports to ADMIN_EMAILS go through the same outbox (`queue_error_report`,
called by core.logs.AdminMailHandler), rate-limited, never sent from inside the
request.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

from . import ratelimit
from .models import Mail

logger = logging.getLogger("core.mail")

TEXT_ENGINE = "text"  # settings.TEMPLATES: plain text, nothing escaped
# Seconds to wait before the 2nd, 3rd… attempt: about a day in all.
BACKOFF = [60, 300, 1800, 7200, 21600, 64800]
MAX_ATTEMPTS = len(BACKOFF) + 1
# Error reports: at most one per subject every 10 minutes, 20 an hour in all.
REPORTS_PER_SUBJECT = ratelimit.Limit("error-report-subject", 1, 600)
REPORTS_PER_HOUR = ratelimit.Limit("error-report", 20, 3600)


def render_text(template: str, context: dict) -> str:
    """Render a plain-text mail template: « L'appli & co » stays as typed."""
    return render_to_string(template, context, using=TEXT_ENGINE)


def queue_mail(
    kind: str, subject: str, body: str, recipients: list[str], reply_to: str = ""
) -> Mail | None:
    """Write a message and enqueue its delivery, in the current transaction.
    Nothing is queued without a recipient."""
    recipients = [address for address in recipients if address]
    if not recipients:
        return None
    mail = Mail.objects.create(
        kind=kind,
        subject=subject[:250],
        body=body,
        recipients="\n".join(recipients),
        reply_to=reply_to,
    )
    deliver.enqueue(mail.pk)
    return mail


@task
def deliver(mail_id: int) -> str:
    """Send one queued message; on failure, enqueue the next attempt."""
    with transaction.atomic():
        mail = Mail.objects.select_for_update().filter(pk=mail_id).first()
        if mail is None or mail.status != Mail.Status.PENDING:
            return "nothing to do"
        mail.attempts += 1
        try:
            EmailMessage(
                mail.subject,
                mail.body,
                to=mail.recipient_list,
                reply_to=[mail.reply_to] if mail.reply_to else None,
            ).send()
        except Exception as error:  # any failure of the mail server or network
            return failed(mail, error)
        mail.status = Mail.Status.SENT
        mail.sent_at = timezone.now()
        mail.last_error = ""
        mail.save(update_fields=["status", "sent_at", "attempts", "last_error"])
    return "sent"


def failed(mail: Mail, error: Exception) -> str:
    """Note a failed attempt; retry later, or give up after MAX_ATTEMPTS."""
    mail.last_error = f"{type(error).__name__}: {error}"[:2000]
    if mail.attempts >= MAX_ATTEMPTS:
        mail.status = Mail.Status.FAILED
        logger.error("mail %s failed for good: %s", mail.pk, mail.last_error)
        outcome = "failed"
    else:
        delay = datetime.timedelta(seconds=BACKOFF[mail.attempts - 1])
        deliver.using(run_after=timezone.now() + delay).enqueue(mail.pk)
        logger.warning(
            "mail %s attempt %s failed, next in %s: %s",
            mail.pk,
            mail.attempts,
            delay,
            mail.last_error,
        )
        outcome = "retry"
    mail.save(update_fields=["status", "attempts", "last_error"])
    return outcome


def resend(mails) -> int:
    """Give failed messages a new series of attempts; return how many."""
    count = 0
    with transaction.atomic():
        for mail in mails.filter(status=Mail.Status.FAILED):
            mail.status, mail.attempts = Mail.Status.PENDING, 0
            mail.save(update_fields=["status", "attempts"])
            deliver.enqueue(mail.pk)
            count += 1
    return count


def queue_error_report(subject: str, message: str) -> None:
    """Queue an error report to ADMIN_EMAILS, unless this subject was reported
    in the last 10 minutes or 20 reports went out this hour."""
    for limit, ident in ((REPORTS_PER_SUBJECT, subject), (REPORTS_PER_HOUR, "all")):
        if not ratelimit.hit(limit, ident).allowed:
            return
    admins = [address for _, address in settings.ADMINS]
    with transaction.atomic():
        queue_mail("rapport d'erreur", subject, message, admins)
