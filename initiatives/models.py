import logging
from difflib import SequenceMatcher

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models, transaction
from django.db.models import Case, Count, Exists, F, Func, OuterRef, Q, Value, When
from django.db.models.functions import Concat
from django.db.models.lookups import Contains
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.reverse import cached_reverse
from core.validators import no_control_characters

from .search import fold, search_stems

logger = logging.getLogger("initiatives")

LABEL_MAX = 5
# Fields whose changes the public changelog does not mention.
PRIVATE_HISTORY_FIELDS = {"updated_at", "published_at", "status", "source_note"}
# Many-to-many fields whose versions the history keeps.
LINKS = ["themes", "vigilance_points"]


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


class CollectivityKind(models.TextChoices):
    COMMUNE = "commune", "commune"
    CC = "cc", "communauté de communes"
    CA = "ca", "communauté d'agglomération"
    CU = "cu", "communauté urbaine"
    METROPOLE = "metropole", "métropole"


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


class Category(models.Model):
    name = models.CharField(
        "nom", max_length=150, unique=True, validators=[no_control_characters]
    )
    slug = models.SlugField(unique=True)
    description = models.TextField(
        "description", blank=True, validators=[no_control_characters]
    )
    order = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "catégorie"
        verbose_name_plural = "catégories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return cached_reverse("initiatives:list") + f"?category={self.slug}"


class ThemeQuerySet(models.QuerySet):
    def with_counts(self):
        """Annotate each theme with its number of published initiatives."""
        published = Q(initiatives__status=InitiativeStatus.PUBLISHED)
        return self.annotate(
            initiative_count=Count("initiatives", filter=published)
        ).order_by("order", "name")


class Theme(models.Model):
    name = models.CharField(
        "nom", max_length=150, unique=True, validators=[no_control_characters]
    )
    slug = models.SlugField(unique=True)
    summary = models.TextField(
        "présentation", blank=True, validators=[no_control_characters]
    )
    order = models.PositiveSmallIntegerField("ordre", default=0)

    objects = ThemeQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "thème"
        verbose_name_plural = "thèmes"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return cached_reverse("initiatives:theme_detail", self.slug)


class InitiativeStatus(models.TextChoices):
    SUBMITTED = "submitted", "soumise"
    PUBLISHED = "published", "publiée"
    REJECTED = "rejected", "refusée"
    ARCHIVED = "archived", "archivée"


class InitiativePeriod(models.TextChoices):
    FIRST_LOCKDOWN = "lockdown1", "premier confinement (mars – mai 2020)"
    SECOND_LOCKDOWN = "lockdown2", "deuxième confinement (oct. – déc. 2020)"
    THIRD_LOCKDOWN = "lockdown3", "troisième confinement (avril – mai 2021)"
    SEVERAL_LOCKDOWNS = "lockdowns", "plusieurs confinements"
    WHOLE_CRISIS = "crisis", "toute la crise sanitaire (2020 – 2021)"
    UNKNOWN = "unknown", "période non précisée"


class InitiativeOutcome(models.TextChoices):
    CONTINUED = "continued", "poursuivie"
    PERMANENT = "permanent", "pérennisée"
    STOPPED = "stopped", "arrêtée"
    UNKNOWN = "unknown", "non connu"


def delete_file_on_commit(storage, name):
    """Delete a stored file once the current transaction commits."""
    transaction.on_commit(lambda: storage.delete(name), robust=True)


def postgres_query(query):
    return SearchQuery(query, config="french_unaccent", search_type="websearch")


def folded_document():
    """The SQLite fallback's searchable text: every searched field, folded."""
    parts = []
    for name in ("title", "summary", "description", "collectivity__name"):
        parts += [F(name), Value(" ")]
    return Func(
        Concat(*parts, output_field=models.TextField()),
        function="portal_fold",
        output_field=models.TextField(),
    )


# What includes/initiative_card.html reads of an initiative (with the two
# foreign keys select_related follows).
CARD_FIELDS = (
    "title",
    "slug",
    "summary",
    "is_featured",
    "collectivity__name",
    "collectivity__department__code",
)


class InitiativeQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Initiative.Status.PUBLISHED)

    def featured(self):
        return self.filter(is_featured=True)

    def search(self, query):
        """Keep the initiatives whose title, summary, description or collectivity
        name match every meaningful word of `query`, ignoring case and accents.

        PostgreSQL: French full-text search on the indexed `search_vector`
        (stemmed: "commerçants" finds "commerce"). SQLite: the same words'
        Snowball stems matched at the start of a word in the folded text.
        """
        if connections[self.db].vendor == "postgresql":
            return self.filter(search_vector=postgres_query(query))
        stems = search_stems(query)
        if not stems:
            return self.none()
        queryset = self.alias(folded_document=folded_document())
        for stem in stems:
            queryset = queryset.filter(folded_document__contains=f" {stem}")
        return queryset

    def ranked(self, query):
        """Order by relevance to `query`: title and collectivity name first."""
        if connections[self.db].vendor == "postgresql":
            rank = SearchRank(F("search_vector"), postgres_query(query))
            return self.annotate(rank=rank).order_by("-rank", "title", "pk")
        title, name, summary = (
            Func(F(field), function="portal_fold", output_field=models.TextField())
            for field in ("title", "collectivity__name", "summary")
        )
        rank = Value(0.0)
        for stem in search_stems(query):
            for field, weight in ((title, 1.0), (name, 1.0), (summary, 0.4)):
                hit = Case(
                    When(Contains(field, Value(f" {stem}")), then=Value(weight)),
                    default=Value(0.0),
                )
                rank = rank + hit
        return self.annotate(rank=rank).order_by("-rank", "title", "pk")

    def for_cards(self):
        """Load the columns an initiative card shows (includes/initiative_card.html)
        and nothing else, in the same query: a page of cards leaves the long
        texts and the themes unread."""
        return self.select_related("collectivity__department").only(*CARD_FIELDS)

    def for_listing(self):
        """Load an initiative with its collectivity, category and themes, in a
        fixed number of queries (the feed, and the detail page below)."""
        return self.select_related(
            "collectivity__department__region", "category"
        ).prefetch_related("themes")

    def for_detail(self):
        """Load everything the detail page shows: the relations of for_listing
        plus vigilance points (one more query)."""
        return self.for_listing().prefetch_related("vigilance_points")

    def related_to(self, initiative, limit=4):
        """Pick up to `limit` other initiatives sharing a theme or the department,
        those sharing the most first. Four queries whose cost does not grow with
        the catalogue: the candidates are the `limit` latest sharing both, the
        department, a theme (each found walking the publication date index),
        then the best of them."""
        themes = [theme.pk for theme in initiative.themes.all()]
        through = Initiative.themes.through.objects
        same_theme = Q(
            Exists(through.filter(initiative=OuterRef("pk"), theme__in=themes))
        )
        same_department = Q(
            collectivity__department=initiative.collectivity.department_id
        )
        others = self.exclude(pk=initiative.pk).order_by("-published_at", "-pk")
        candidates = {
            pk
            for shared in (same_theme & same_department, same_department, same_theme)
            for pk in others.filter(shared).values_list("pk", flat=True)[:limit]
        }
        return (
            self.filter(pk__in=candidates)
            .annotate(
                shared=Count("themes", filter=Q(themes__in=themes), distinct=True)
                + Case(When(same_department, then=Value(2)), default=Value(0))
            )
            .order_by("-shared", "title")
            .for_cards()[:limit]
        )

    def publish(self):
        """Publish the selected initiatives, dating those published for the first
        time, recording each change in their history; return how many changed.
        Saves one row at a time: meant for staff selections, not bulk loads."""
        now = timezone.now()
        changed = 0
        for initiative in self.exclude(status=Initiative.Status.PUBLISHED):
            initiative.status = Initiative.Status.PUBLISHED
            initiative.published_at = initiative.published_at or now
            initiative.save(update_fields=["status", "published_at", "updated_at"])
            changed += 1
        return changed

    def unpublish(self):
        """Send the selected published initiatives back to review."""
        return self.filter(status=Initiative.Status.PUBLISHED).set_status(
            Initiative.Status.SUBMITTED
        )

    def set_status(self, status):
        """Give the selected initiatives `status`, recording it in their history;
        return how many changed."""
        changed = 0
        for initiative in self.exclude(status=status):
            initiative.status = status
            initiative.save(update_fields=["status", "updated_at"])
            changed += 1
        return changed

    def similar_to(self, initiative, threshold=0.6):
        """List the other initiatives of the same collectivity whose folded title
        is at least `threshold` similar: possible duplicates. One query."""
        title = fold(initiative.title)
        candidates = self.filter(collectivity_id=initiative.collectivity_id).exclude(
            pk=initiative.pk
        )
        return [
            other
            for other in candidates
            if SequenceMatcher(None, title, fold(other.title)).ratio() >= threshold
        ]


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
        if not self.image.storage.exists(self.image.name):
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
