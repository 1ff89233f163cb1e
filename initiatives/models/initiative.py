"""The initiatives: what a collectivity did, as the catalogue shows it."""

import logging

from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.storage import STORAGE_ERRORS
from core.validators import no_control_characters

from .choices import InitiativeOutcome, InitiativePeriod, InitiativeStatus
from .geography import Collectivity
from .queries import InitiativeQuerySet
from .themes import Category, Theme

logger = logging.getLogger("initiatives")

# Fields whose changes the public changelog does not mention.
PRIVATE_HISTORY_FIELDS = {"updated_at", "published_at", "status", "source_note"}
# Many-to-many fields whose versions the history keeps.
LINKS = ["themes", "vigilance_points"]


def delete_file_on_commit(storage, name):
    """Delete a stored file once the current transaction commits."""
    transaction.on_commit(lambda: storage.delete(name), robust=True)


class Initiative(models.Model):
    Status = InitiativeStatus
    Period = InitiativePeriod
    Outcome = InitiativeOutcome

    title = models.CharField(
        "titre", max_length=200, validators=[no_control_characters]
    )
    slug = models.SlugField("identifiant d'URL", max_length=220, unique=True)
    collectivity = models.ForeignKey(
        Collectivity,
        models.PROTECT,
        related_name="initiatives",
        verbose_name="collectivité",
    )
    category = models.ForeignKey(
        Category,
        models.PROTECT,
        related_name="initiatives",
        verbose_name="catégorie",
        help_text="L'une des trois catégories de l'appel à idées.",
    )
    themes = models.ManyToManyField(
        Theme, related_name="initiatives", blank=True, verbose_name="thèmes"
    )
    vigilance_points = models.ManyToManyField(
        "vigilance.VigilancePoint",
        related_name="initiatives",
        blank=True,
        verbose_name="points de vigilance",
        help_text="Les points de vigilance de la publication que l'initiative touche.",
    )
    survey = models.ForeignKey(
        "surveys.Survey",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="initiatives",
        verbose_name="enquête",
        help_text="L'appel à idées auquel l'initiative a répondu, le cas échéant.",
    )
    summary = models.CharField(
        "résumé",
        max_length=300,
        help_text="Une ou deux phrases, 300 caractères au plus.",
        validators=[no_control_characters],
    )
    description = models.TextField(
        "description", max_length=10000, validators=[no_control_characters]
    )
    results = models.TextField(
        "résultats et chiffres",
        blank=True,
        max_length=2000,
        help_text="Les chiffres donnés par la source, par exemple « 230 commandes "
        "auprès de 11 producteurs ».",
        validators=[no_control_characters],
    )
    website = models.URLField(
        "site internet", blank=True, validators=[no_control_characters]
    )
    image = models.ImageField("image", upload_to="initiatives/", blank=True)
    # Stored with the row: a page or the API never reads the file to size it.
    image_width = models.PositiveIntegerField(
        "largeur de l'image", null=True, blank=True, editable=False
    )
    image_height = models.PositiveIntegerField(
        "hauteur de l'image", null=True, blank=True, editable=False
    )
    image_alt = models.CharField(
        "texte alternatif de l'image",
        max_length=250,
        blank=True,
        help_text="Obligatoire si une image est jointe : décrit ce qu'elle montre.",
        validators=[no_control_characters],
    )
    period = models.CharField(
        "période",
        max_length=10,
        choices=Period,
        default=Period.UNKNOWN,
        help_text="La phase de la crise pendant laquelle l'initiative a été menée.",
    )
    started_on = models.DateField("date de début", null=True, blank=True)
    ended_on = models.DateField("date de fin", null=True, blank=True)
    outcome = models.CharField(
        "et après ?",
        max_length=10,
        choices=Outcome,
        default=Outcome.UNKNOWN,
        help_text="Ce qu'il est advenu de l'initiative après la crise.",
    )
    is_featured = models.BooleanField(
        "bonne pratique à la une",
        default=False,
        help_text="Les pratiques présentées en « focus » par la publication.",
    )
    status = models.CharField(
        "statut", max_length=10, choices=Status, default=Status.SUBMITTED
    )
    source_note = models.TextField(
        "source",
        blank=True,
        help_text="D'où vient l'information (publication, page, réponse à l'enquête).",
        validators=[no_control_characters],
    )
    published_at = models.DateTimeField("publiée le", null=True, blank=True)
    # Maintained by PostgreSQL triggers (migration 0003): title, collectivity name,
    # summary and description, accent-folded and stemmed. Unused on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("mise à jour le", auto_now=True)

    objects = InitiativeQuerySet.as_manager()
    # Themes and vigilance points are kept in each version too: a deleted
    # initiative restored from its history gets them back.
    history = HistoricalRecords(
        excluded_fields=["search_vector"],
        m2m_fields=[themes, vigilance_points],
        verbose_name="historique de l'initiative",
    )

    class Meta:
        ordering = ["title"]
        verbose_name = "initiative"
        verbose_name_plural = "initiatives"
        # The list's orders, ending with the key: a page's ids are read from
        # the index alone (CappedPaginator), however deep the page.
        indexes = [
            models.Index(fields=["status", "title", "id"]),
            models.Index(fields=["status", "-published_at", "-id"]),
            models.Index(fields=["period"]),
            models.Index(fields=["outcome"]),
            models.Index(fields=["is_featured"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=InitiativeStatus.values),
                name="initiative_status_known",
            ),
            models.CheckConstraint(
                condition=Q(period__in=InitiativePeriod.values),
                name="initiative_period_known",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=InitiativeOutcome.values),
                name="initiative_outcome_known",
            ),
            models.CheckConstraint(
                condition=Q(image="") | ~Q(image_alt=""),
                name="initiative_image_has_alt",
            ),
            models.CheckConstraint(
                condition=Q(started_on__isnull=True)
                | Q(ended_on__isnull=True)
                | Q(ended_on__gte=F("started_on")),
                name="initiative_dates_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="initiative_published_is_dated",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("initiatives:detail", args=[self.slug])

    def clean(self):
        if self.image and not self.image_alt.strip():
            raise ValidationError(
                {"image_alt": "Décrivez l'image pour qui ne peut pas la voir."}
            )
        if self.started_on and self.ended_on and self.ended_on < self.started_on:
            raise ValidationError(
                {"ended_on": "La date de fin précède la date de début."}
            )
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED

    def is_seen_by_visitors(self):
        """Tell whether visitors see this initiative, or did: published now or
        once (its publication date stays when it is unpublished), so that
        changing it changes public pages (core.page_cache). A submission
        waiting for review, never published, is not."""
        return self.is_published or self.published_at is not None

    def attach_image(self, content):
        """Take a re-encoded image (core.images.ImageContent) and its size."""
        self.image = content
        self.image_width, self.image_height = content.width, content.height

    def forget_image(self):
        """Drop the image; its file is deleted once the transaction commits
        (a rolled-back change keeps it). Call save() afterwards."""
        if self.image.name:
            delete_file_on_commit(self.image.storage, self.image.name)
        self.image, self.image_alt = "", ""
        self.image_width = self.image_height = None

    @property
    def shown_image(self):
        """The image if its file is there; a missing file is logged and the
        page shows no image rather than failing (one check of the storage)."""
        if not self.image.name:
            return None
        try:
            exists = self.image.storage.exists(self.image.name)
        except STORAGE_ERRORS:
            logger.warning("media storage unavailable", exc_info=True)
            return None
        if not exists:
            logger.warning(
                "image file missing for initiative %s: %s", self.pk, self.image.name
            )
            return None
        return self.image

    def public_changelog(self, limit=5):
        """List the latest changes as the public may see them: when, and which
        fields changed (never who). One query."""
        records = list(self.history.order_by("-history_date")[: limit + 1])
        entries = []
        for newer, older in zip(records, [*records[1:], None], strict=False):
            if older is None:
                entries.append((newer.history_date, "création de la fiche"))
                continue
            # Fields of the row only: the links' versions would cost two
            # queries per entry.
            changes = newer.diff_against(older, excluded_fields=LINKS).changed_fields
            labels = sorted(
                str(self._meta.get_field(name).verbose_name)
                for name in changes
                if name not in PRIVATE_HISTORY_FIELDS
            )
            if labels:
                entries.append((newer.history_date, ", ".join(labels)))
        return entries[:limit]

    @property
    def period_display(self):
        """Describe when the initiative ran: its dates if known, else its phase."""
        if self.started_on and self.ended_on:
            return f"du {self.started_on:%d/%m/%Y} au {self.ended_on:%d/%m/%Y}"
        if self.started_on:
            return f"depuis le {self.started_on:%d/%m/%Y}"
        return self.get_period_display()
