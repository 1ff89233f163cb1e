from django.db import models
from django.db.models import Count, Q

from core.reverse import cached_reverse
from core.validators import no_control_characters
from initiatives.models import Initiative


class VigilancePointQuerySet(models.QuerySet):
    def with_counts(self):
        """Annotate each point with its number of published initiatives."""
        published = Q(initiatives__status=Initiative.Status.PUBLISHED)
        return self.annotate(
            initiative_count=Count("initiatives", filter=published)
        ).order_by("order", "title")


class VigilancePoint(models.Model):
    title = models.CharField(
        "titre", max_length=150, unique=True, validators=[no_control_characters]
    )
    slug = models.SlugField(unique=True)
    summary = models.CharField(
        "résumé", max_length=300, validators=[no_control_characters]
    )
    body = models.TextField("texte", validators=[no_control_characters])
    cnfpt_echoes = models.TextField(
        "échos dans l'étude du CNFPT",
        blank=True,
        help_text="Ce que l'étude du CNFPT (octobre 2020) dit de ce point, résumé.",
        validators=[no_control_characters],
    )
    order = models.PositiveSmallIntegerField("ordre", default=0)

    objects = VigilancePointQuerySet.as_manager()

    class Meta:
        ordering = ["order", "title"]
        verbose_name = "point de vigilance"
        verbose_name_plural = "points de vigilance"

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return cached_reverse("vigilance:detail", self.slug)
