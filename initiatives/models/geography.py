"""Regions, departments and collectivities: the official geography."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.models import Case, Count, F, Func, Q, Value, When
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.reverse import cached_reverse
from core.validators import no_control_characters

from ..search import fold
from .choices import LABEL_MAX, CollectivityKind, InitiativeStatus


class Region(models.Model):
    code = models.CharField(
        "code INSEE", max_length=3, unique=True, validators=[no_control_characters]
    )
    name = models.CharField("nom", max_length=100, validators=[no_control_characters])

    class Meta:
        ordering = ["name"]
        verbose_name = "région"
        verbose_name_plural = "régions"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return cached_reverse("initiatives:list") + f"?region={self.code}"


class DepartmentQuerySet(models.QuerySet):
    def with_counts(self):
        """Annotate each department with its number of published initiatives."""
        published = Q(collectivities__initiatives__status=InitiativeStatus.PUBLISHED)
        return (
            self.select_related("region")
            .annotate(
                initiative_count=Count("collectivities__initiatives", filter=published)
            )
            .order_by("code")
        )


class Department(models.Model):
    code = models.CharField(
        "code INSEE",
        max_length=3,
        unique=True,
        help_text="Par exemple 13, 2A ou 971.",
        validators=[no_control_characters],
    )
    name = models.CharField("nom", max_length=100, validators=[no_control_characters])
    region = models.ForeignKey(
        Region,
        models.PROTECT,
        related_name="departments",
        verbose_name="région",
    )

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = "département"
        verbose_name_plural = "départements"

    def __str__(self):
        return f"{self.name} ({self.code})"

    def get_absolute_url(self):
        return cached_reverse("initiatives:department_detail", self.code)


class PopulationBand(models.TextChoices):
    UNDER_2K = "moins-de-2000", "moins de 2 000 habitants"
    UNDER_10K = "2000-10000", "2 000 à 10 000 habitants"
    UNDER_50K = "10000-50000", "10 000 à 50 000 habitants"
    UNDER_100K = "50000-100000", "50 000 à 100 000 habitants"
    OVER_100K = "plus-de-100000", "plus de 100 000 habitants"


# The lower bound of each band, in PopulationBand's order.
BAND_FLOORS = [0, 2_000, 10_000, 50_000, 100_000]


def population_band():
    """The band of a population, as the database computes it."""
    bands = list(zip(BAND_FLOORS[1:], PopulationBand.values, strict=False))
    return Case(
        *[When(population__lt=floor, then=Value(band)) for floor, band in bands],
        When(population__isnull=False, then=Value(PopulationBand.OVER_100K)),
        default=None,
        output_field=models.CharField(max_length=20),
    )


class CollectivityQuerySet(models.QuerySet):
    def communes(self):
        return self.filter(kind=Collectivity.Kind.COMMUNE)

    def intercommunalities(self):
        return self.exclude(kind=Collectivity.Kind.COMMUNE)

    def matching(self, text):
        """Keep the collectivities whose name contains `text`, ignoring case,
        accents and hyphens, or whose official code or a postcode is `text`."""
        text = text.strip()
        if not text:
            return self
        by_code = Q(code=text.upper()) | Q(siren=text)
        if text.isdigit() and len(text) == 5:
            by_code |= Q(postcodes__contains=text)
        if connections[self.db].vendor == "postgresql":
            by_name = Q(name__unaccent__icontains=text) | Q(
                name__unaccent__icontains=text.replace(" ", "-")
            )
            return self.filter(by_name | by_code)
        folded_name = Func(F("name"), function="portal_fold")
        queryset = self.alias(folded_name=folded_name)
        return queryset.filter(Q(folded_name__contains=fold(text).strip()) | by_code)

    def labelled(self):
        return self.filter(label_level__isnull=False)

    def with_initiative_counts(self):
        """Keep the collectivities with published initiatives, annotated with
        their number, and their department loaded."""
        published = Q(initiatives__status=InitiativeStatus.PUBLISHED)
        return (
            self.annotate(initiative_count=Count("initiatives", filter=published))
            .filter(initiative_count__gt=0)
            .select_related("department")
            .order_by("name", "code")
        )


class Collectivity(models.Model):
    Kind = CollectivityKind

    name = models.CharField(
        "nom officiel", max_length=200, validators=[no_control_characters]
    )
    slug = models.SlugField("identifiant d'URL", max_length=220, unique=True)
    kind = models.CharField("nature", max_length=10, choices=Kind)
    code = models.CharField(
        "code officiel",
        max_length=9,
        unique=True,
        help_text="Code INSEE pour une commune (5 caractères), SIREN pour une "
        "intercommunalité (9 chiffres).",
        validators=[no_control_characters],
    )
    siren = models.CharField(
        "SIREN", max_length=9, blank=True, validators=[no_control_characters]
    )
    department = models.ForeignKey(
        Department,
        models.PROTECT,
        related_name="collectivities",
        verbose_name="département",
        help_text="Pour une intercommunalité, le département de sa commune la plus "
        "peuplée.",
    )
    population = models.PositiveIntegerField("population", null=True, blank=True)
    population_band = models.GeneratedField(
        expression=population_band(),
        output_field=models.CharField(
            "taille", max_length=20, choices=PopulationBand, null=True
        ),
        db_persist=True,
    )
    postcodes = models.CharField(
        "codes postaux",
        max_length=200,
        blank=True,
        help_text="Séparés par un espace.",
        validators=[no_control_characters],
    )
    members = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="intercommunalities",
        blank=True,
        verbose_name="communes membres",
    )
    label_level = models.PositiveSmallIntegerField(
        "label Villes Internet",
        null=True,
        blank=True,
        validators=[MaxValueValidator(LABEL_MAX)],
        help_text="Nombre de « @ » du label Territoires, Villes et Villages Internet "
        "(0 à 5). Vide si la collectivité n'est pas labellisée.",
    )
    label_year = models.PositiveSmallIntegerField(
        "année du label",
        null=True,
        blank=True,
        validators=[MinValueValidator(1999), MaxValueValidator(2100)],
    )
    website = models.URLField(
        "site internet", blank=True, validators=[no_control_characters]
    )

    objects = CollectivityQuerySet.as_manager()
    history = HistoricalRecords(verbose_name="historique de la collectivité")

    class Meta:
        ordering = ["name", "code"]
        verbose_name = "collectivité"
        verbose_name_plural = "collectivités"
        indexes = [
            models.Index(fields=["kind"]),
            models.Index(fields=["label_level"]),
            models.Index(fields=["name"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=CollectivityKind.values),
                name="collectivity_kind_known",
            ),
            models.CheckConstraint(
                condition=Q(label_level__isnull=True)
                | Q(label_level__gte=0, label_level__lte=LABEL_MAX),
                name="collectivity_label_level_range",
            ),
            models.CheckConstraint(
                condition=Q(label_year__isnull=True) | Q(label_level__isnull=False),
                name="collectivity_label_year_needs_level",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.department.code})"

    def get_absolute_url(self):
        return reverse("initiatives:collectivity_detail", args=[self.slug])

    @property
    def is_commune(self):
        return self.kind == self.Kind.COMMUNE

    @property
    def label_display(self):
        """Print the label as the publication does: "@@@@ 2021"."""
        if self.label_level is None:
            return ""
        return f"{'@' * self.label_level} {self.label_year or ''}".strip()
