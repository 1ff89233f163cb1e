"""The call for ideas' work across models: a submission creates an initiative
and its private contact record in one transaction, then mails after commit;
staff decisions publish or reject; old contact data is purged."""

import datetime
import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from initiatives.models import Collectivity, Initiative
from portal.logs import hashed_address, security_event

from .models import Submission, Survey

logger = logging.getLogger("portal.submissions")

RATE_WINDOW_SECONDS = 3600


def _rate_key(request) -> str:
    return f"submissions:{hashed_address(request)}"


def is_rate_limited(request) -> bool:
    """Tell whether this client reached the hourly number of submissions. The
    count lives in the shared cache, so every worker process sees it."""
    return cache.get(_rate_key(request), 0) >= settings.SUBMISSIONS_PER_HOUR


def count_submission(request) -> None:
    key = _rate_key(request)
    if not cache.add(key, 1, RATE_WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, RATE_WINDOW_SECONDS)


def unique_slug(title: str, collectivity: Collectivity) -> str:
    """Build a free slug from the town and the title: "beauvais-marche-en-ligne"."""
    base = slugify(f"{collectivity.name} {title}")[:80].strip("-") or "initiative"
    slug, number = base, 2
    while Initiative.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


def create_submission(
    survey: Survey,
    initiative: Initiative,
    contact: dict[str, str],
    save_relations: Callable[[], None] = lambda: None,
    notify: bool = True,
) -> Submission:
    """Save a submitted initiative (status "submitted": invisible to the public),
    its themes and vigilance points (`save_relations`) and its contact record,
    all or nothing; mail after the commit only."""
    try:
        with transaction.atomic():
            initiative.slug = unique_slug(initiative.title, initiative.collectivity)
            initiative.status = Initiative.Status.SUBMITTED
            initiative.survey = survey
            initiative.source_note = (
                f"Proposée par la collectivité en réponse à « {survey.title} »."
            )
            initiative.save()
            save_relations()
            submission = Submission.objects.create(
                survey=survey, initiative=initiative, has_consented=True, **contact
            )
            if notify:
                transaction.on_commit(lambda: notify_in_background(submission))
    except Exception:
        # The transaction rolled back: drop the image file it may have written.
        if initiative.image.name:
            initiative.image.storage.delete(initiative.image.name)
        raise
    return submission


def notify_in_background(submission: Submission) -> None:
    """Mail about a new submission without holding the visitor's request: the
    messages are written now (reading the database here), then sent from a
    background thread when MAIL_IN_BACKGROUND is on (production)."""
    messages = submission_messages(submission)
    if not settings.MAIL_IN_BACKGROUND:
        send_messages(messages, submission.pk)
        return
    threading.Thread(
        target=send_messages,
        args=[messages, submission.pk],
        name=f"submission-mail-{submission.pk}",
        daemon=True,
    ).start()


def submission_messages(submission: Submission) -> list[tuple[str, str, list[str]]]:
    """Write the acknowledgement to the submitter and the staff notification."""
    initiative = submission.initiative
    review_url = settings.SITE_URL + reverse(
        "admin:surveys_pendinginitiative_change", args=[initiative.pk]
    )
    context = {"initiative": initiative, "review_url": review_url}
    return [
        (
            "Votre proposition d'initiative a bien été reçue",
            render_to_string("surveys/email/acknowledgement.txt", context),
            [submission.submitter_email],
        ),
        (
            f"Nouvelle proposition à modérer : {initiative.title}",
            render_to_string("surveys/email/notification.txt", context),
            list(settings.SUBMISSION_NOTIFY_EMAILS),
        ),
    ]


def send_messages(messages: list[tuple[str, str, list[str]]], pk: int) -> None:
    """Send the messages. A failing mail server is logged and never undoes or
    repeats the submission."""
    for subject, body, recipients in messages:
        if not recipients:
            continue
        try:
            send_mail(subject, body, None, recipients)
        except Exception:
            logger.exception("submission email failed", extra={"submission": pk})


def decide(initiatives, user, status: str, reason: str = "") -> int:
    """Publish or reject initiatives, noting who decided, when and why on their
    submissions; return how many changed."""
    queryset = Initiative.objects.filter(pk__in=[i.pk for i in initiatives])
    with transaction.atomic():
        if status == Initiative.Status.PUBLISHED:
            changed = queryset.publish()
        else:
            changed = queryset.set_status(status)
        Submission.objects.filter(initiative__in=queryset).update(
            reviewed_at=timezone.now(), reviewed_by=user, review_note=reason
        )
    security_event(
        "moderation_decision",
        status=status,
        count=changed,
        initiatives=[initiative.slug for initiative in queryset],
        reviewer=user.get_username() if user is not None else "",
    )
    return changed


def purge_contacts(older_than: datetime.timedelta) -> int:
    """Erase the contact data of submissions older than `older_than`; return
    how many were purged."""
    limit = timezone.now() - older_than
    return Submission.objects.filter(
        submitted_at__lt=limit, contact_purged_at__isnull=True
    ).update(
        submitter_name="",
        submitter_email="",
        submitter_role="",
        contact_purged_at=timezone.now(),
    )
