"""The call for ideas' work across models: a submission creates an initiative,
its private contact record and its mails (the outbox, core/mail.py) in one
transaction; staff decisions publish or reject; old contact data is purged."""

import datetime
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from core import ratelimit
from core.clients import client_ip
from core.logs import security_event
from core.mail import queue_mail, render_text
from core.models import Mail
from core.storage import STORAGE_ERRORS
from initiatives.models import Collectivity, Initiative

from .models import Submission, Survey

logger = logging.getLogger("portal.submissions")

HOUR = 3600
SLUG_ATTEMPTS = 5
IMAGE_FIELDS = ["image", "image_alt", "image_width", "image_height"]


def submission_limit() -> ratelimit.Limit:
    return ratelimit.Limit("submissions", settings.SUBMISSIONS_PER_HOUR, HOUR)


def attempt_limit() -> ratelimit.Limit:
    return ratelimit.Limit(
        "submission-posts", settings.SUBMISSION_ATTEMPTS_PER_HOUR, HOUR
    )


def refused_by_limits(request) -> ratelimit.Verdict | None:
    """Count this POST of the form, valid or not; return the verdict that
    refuses it (too many posts, or too many submissions this hour), or None.
    Shared by every worker process and host (core/ratelimit.py)."""
    ident = client_ip(request) or ""
    attempts = ratelimit.hit(attempt_limit(), ident)
    if not attempts.allowed:
        return attempts
    submissions = ratelimit.peek(submission_limit(), ident)
    return None if submissions.allowed else submissions


def count_submission(request) -> None:
    """Count a submission that was saved."""
    ratelimit.hit(submission_limit(), client_ip(request) or "")


def slug_base(title: str, collectivity: Collectivity) -> str:
    """The town and the title: "beauvais-marche-en-ligne"."""
    return slugify(f"{collectivity.name} {title}")[:80].strip("-") or "initiative"


def free_slug(base: str) -> str:
    """The first of base, base-2, base-3… that no initiative has."""
    slug, number = base, 2
    while Initiative.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


def save_with_free_slug(initiative: Initiative) -> None:
    """Save a new initiative under a free slug. Two identical submissions at
    the same instant pick the same one: the second insert fails on the unique
    slug, in its savepoint, and takes the next one."""
    base = slug_base(initiative.title, initiative.collectivity)
    for _ in range(SLUG_ATTEMPTS):
        initiative.slug = free_slug(base)
        try:
            with transaction.atomic():
                initiative.save()
            return
        except IntegrityError:
            if not Initiative.objects.filter(slug=initiative.slug).exists():
                raise  # another constraint than the slug's
            initiative.pk = None
    raise IntegrityError(f"no free slug for {base!r} after {SLUG_ATTEMPTS} tries")


def create_submission(
    survey: Survey,
    initiative: Initiative,
    contact: dict[str, str],
    save_relations: Callable[[], None] = lambda: None,
    notify: bool = True,
    source: str = "",
    form_digest: str = "",
) -> Submission:
    """Save a submitted initiative (status "submitted": invisible to the public),
    its themes and vigilance points (`save_relations`), its contact record and
    its mails, all or nothing. An image the rolled-back work wrote is deleted;
    one of a committed submission never is. A form already received (the same
    `form_digest`, from SubmissionForm.digest()) saves nothing more: its first
    submission is returned, even when both arrive at once."""
    if form_digest:
        if first := Submission.objects.filter(form_digest=form_digest).first():
            return first
    committed = []
    try:
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(True), robust=True)
            initiative.status = Initiative.Status.SUBMITTED
            initiative.survey = survey
            initiative.source_note = source or (
                f"Proposée par la collectivité en réponse à « {survey.title} »."
            )
            save_with_free_slug(initiative)
            save_relations()
            submission = Submission.objects.create(
                survey=survey,
                initiative=initiative,
                has_consented=True,
                form_digest=form_digest,
                **contact,
            )
            if notify:
                queue_submission_mails(submission)
    except Exception as error:
        if not committed and initiative.image.name:
            forget_file(initiative.image)
        same_form = Submission.objects.filter(form_digest=form_digest).first()
        if form_digest and isinstance(error, IntegrityError) and same_form:
            return same_form  # the same form, sent twice at the same instant
        raise
    return submission


def forget_file(image) -> None:
    """Delete a file the rolled-back work wrote, if the storage answers."""
    try:
        image.storage.delete(image.name)
    except STORAGE_ERRORS:
        logger.warning("could not delete %s", image.name, exc_info=True)


def queue_submission_mails(submission: Submission) -> None:
    """Queue the acknowledgement to the submitter and the staff notification,
    in the submission's transaction."""
    initiative = submission.initiative
    review_url = settings.SITE_URL + reverse(
        "admin:surveys_pendinginitiative_change", args=[initiative.pk]
    )
    context = {"initiative": initiative, "review_url": review_url}
    queue_mail(
        "accusé de réception",
        "Votre proposition d'initiative a bien été reçue",
        render_text("surveys/acknowledgement.txt", context),
        [submission.submitter_email],
    )
    queue_mail(
        "nouvelle proposition",
        f"Nouvelle proposition à modérer : {initiative.title}",
        render_text("surveys/notification.txt", context),
        list(settings.SUBMISSION_NOTIFY_EMAILS),
    )


def decide(initiatives, user, status: str, reason: str = "") -> int:
    """Publish or reject initiatives, noting who decided, when and why on their
    submissions; return how many changed."""
    queryset = Initiative.objects.filter(pk__in=[i.pk for i in initiatives])
    with transaction.atomic():
        if status == Initiative.Status.PUBLISHED:
            changed = queryset.publish()
        else:
            changed = queryset.set_status(status)
        if status == Initiative.Status.REJECTED:
            # A refused picture is not kept, nor served (deleted at commit).
            for initiative in queryset.exclude(image=""):
                initiative.forget_image()
                initiative.save(update_fields=[*IMAGE_FIELDS, "updated_at"])
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
    """Erase the contact data of submissions older than `older_than`, the
    images of those never published and the mails of that age; return how
    many submissions were purged. Files are deleted once this commits."""
    limit = timezone.now() - older_than
    submissions = Submission.objects.filter(
        submitted_at__lt=limit, contact_purged_at__isnull=True
    )
    with transaction.atomic():
        unpublished = Initiative.objects.filter(
            submission__in=submissions, published_at__isnull=True
        ).exclude(image="")
        for initiative in unpublished:
            initiative.forget_image()
            initiative.save(update_fields=[*IMAGE_FIELDS, "updated_at"])
        Mail.objects.filter(created_at__lt=limit).delete()
        return submissions.update(
            submitter_name="",
            submitter_email="",
            submitter_role="",
            contact_purged_at=timezone.now(),
        )
