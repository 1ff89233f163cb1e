from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.validators import no_control_characters
from initiatives.models import Initiative


class SurveyQuerySet(models.QuerySet):
    def accepting_submissions(self):
        return self.filter(is_accepting_submissions=True)


class Survey(models.Model):
    title = models.CharField(
        "titre", max_length=200, validators=[no_control_characters]
    )
    slug = models.SlugField(unique=True)
    organisers = models.CharField(
        "organisateurs", max_length=200, validators=[no_control_characters]
    )
    description = models.TextField(
        "présentation", blank=True, validators=[no_control_characters]
    )
    opened_on = models.DateField("ouverture")
    closed_on = models.DateField("clôture", null=True, blank=True)
    declared_initiatives = models.PositiveIntegerField(
        "initiatives déclarées",
        null=True,
        blank=True,
        help_text="Le total publié par les organisateurs (97 pour l'appel à idées "
        "2020-2021), non recalculé.",
    )
    declared_towns = models.PositiveIntegerField(
        "villes déclarées", null=True, blank=True
    )
    declared_intercommunalities = models.PositiveIntegerField(
        "intercommunalités déclarées", null=True, blank=True
    )
    categories = models.ManyToManyField(
        "initiatives.Category",
        related_name="surveys",
        blank=True,
        verbose_name="catégories proposées",
    )
    is_accepting_submissions = models.BooleanField(
        "accepte des propositions",
        default=False,
        help_text="Ouvre le formulaire public de proposition pour cette enquête.",
    )
    source = models.CharField(
        "source", max_length=300, blank=True, validators=[no_control_characters]
    )

    objects = SurveyQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_on"]
        verbose_name = "enquête"
        verbose_name_plural = "enquêtes"
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="survey_dates_ordered",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("surveys:results")


class Submission(models.Model):
    """One answer to a survey through the public form: the only home of the
    submitter's personal data, never shown in public pages, the API or exports."""

    survey = models.ForeignKey(
        Survey, models.PROTECT, related_name="submissions", verbose_name="enquête"
    )
    # Kept when its initiative is deleted: restored from its history, the
    # initiative (same primary key, `initiative_number`) finds it again.
    initiative = models.OneToOneField(
        Initiative,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="submission",
        verbose_name="initiative",
    )
    initiative_number = models.BigIntegerField(
        "numéro de l'initiative", null=True, blank=True, editable=False, db_index=True
    )
    submitter_name = models.CharField(
        "nom du contact", max_length=150, blank=True, validators=[no_control_characters]
    )
    submitter_email = models.EmailField("courriel du contact", blank=True)
    submitter_role = models.CharField(
        "fonction du contact",
        max_length=150,
        blank=True,
        validators=[no_control_characters],
    )
    has_consented = models.BooleanField(
        "consentement", help_text="Accord au traitement des données de contact."
    )
    submitted_at = models.DateTimeField("reçue le", auto_now_add=True)
    review_note = models.TextField(
        "motif de la décision",
        blank=True,
        help_text="Interne, jamais publié.",
        validators=[no_control_characters],
    )
    reviewed_at = models.DateTimeField("examinée le", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviewed_submissions",
        verbose_name="examinée par",
    )
    contact_purged_at = models.DateTimeField(
        "données de contact effacées le", null=True, blank=True
    )
    # One display of the public form (a digest of its signed token): the same
    # form sent twice, a retry after a lost answer, makes one submission.
    form_digest = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = "proposition"
        verbose_name_plural = "propositions"
        indexes = [models.Index(fields=["-submitted_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(has_consented=True), name="submission_has_consent"
            ),
            models.UniqueConstraint(
                fields=["form_digest"],
                condition=~Q(form_digest=""),
                name="submission_form_sent_once",
            ),
        ]

    def __str__(self):
        title = self.initiative or "initiative supprimée"
        return f"Proposition du {self.submitted_at:%d/%m/%Y} : {title}"

    def save(self, *args, **kwargs):
        if self.initiative_id is not None:
            self.initiative_number = self.initiative_id
        super().save(*args, **kwargs)

    def is_seen_by_visitors(self):
        """Never: contact data and review notes are the staff's (core.page_cache)."""
        return False

    @property
    def decision(self):
        """The moderation decision is the initiative's status."""
        if self.initiative is None:
            return "initiative supprimée"
        return self.initiative.get_status_display()


class PendingInitiative(Initiative):
    """The moderation queue: initiatives waiting for a decision."""

    class Meta:
        proxy = True
        verbose_name = "initiative à modérer"
        verbose_name_plural = "initiatives à modérer"


class KeyFigure(models.Model):
    """A figure quoted by the publication: a dated snapshot with its source,
    never computed from the catalogue."""

    slug = models.SlugField(unique=True)
    display_value = models.CharField(
        "valeur affichée",
        max_length=20,
        help_text="Telle que publiée : « +30 % ».",
        validators=[no_control_characters],
    )
    value = models.DecimalField("valeur numérique", max_digits=14, decimal_places=2)
    unit = models.CharField(
        "unité",
        max_length=50,
        help_text="Par exemple « % », « personnes ».",
        validators=[no_control_characters],
    )
    label = models.CharField(
        "intitulé", max_length=100, validators=[no_control_characters]
    )
    explanation = models.TextField("explication", validators=[no_control_characters])
    source = models.CharField(
        "organisme source",
        max_length=200,
        help_text="L'organisme qui a produit le chiffre, tel que cité par la "
        "publication.",
        validators=[no_control_characters],
    )
    publication = models.CharField(
        "publication",
        max_length=300,
        help_text="Le document dans lequel le portail a relevé ce chiffre.",
        validators=[no_control_characters],
    )
    period = models.CharField(
        "période",
        max_length=100,
        help_text="La période que le chiffre décrit.",
        validators=[no_control_characters],
    )
    order = models.PositiveSmallIntegerField("ordre", default=0)

    history = HistoricalRecords(verbose_name="historique du chiffre clé")

    class Meta:
        ordering = ["order", "label"]
        verbose_name = "chiffre clé"
        verbose_name_plural = "chiffres clés"

    def __str__(self):
        return f"{self.display_value} {self.label}"

    def get_absolute_url(self):
        return reverse("surveys:key_figures") + f"#{self.slug}"

    def visual(self):
        """Describe the small drawing of the figure: a gauge for a percentage,
        squares for a multiplier, dots for a large number (with their scale)."""
        value = float(self.value)
        if self.unit.startswith("%"):
            return {"kind": "gauge", "percent": max(0.0, min(value, 100.0))}
        if self.unit.startswith("fois"):
            return {
                "kind": "squares",
                "positions": [i * 12 for i in range(min(int(value), 8))],
            }
        step, scale = (
            (1_000_000, "1 point = 1 million")
            if value >= 1_000_000
            else (
                100_000,
                "1 point = 100 000",
            )
        )
        count = min(round(value / step), 20)
        return {
            "kind": "dots",
            "positions": [i * 5 + 2.5 for i in range(count)],
            "scale": scale,
        }
