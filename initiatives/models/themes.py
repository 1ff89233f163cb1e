"""The survey's categories and the publication's themes."""

from django.db import models
from django.db.models import Count, Q

from core.reverse import cached_reverse
from core.validators import no_control_characters

from .choices import InitiativeStatus


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
