"""What the initiatives' queries know: publication, search and ranking on both
engines, cards, detail, related initiatives, moderation, possible duplicates."""

from difflib import SequenceMatcher

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connections, models
from django.db.models import Case, Count, Exists, F, Func, OuterRef, Q, Value, When
from django.db.models.functions import Concat
from django.db.models.lookups import Contains
from django.utils import timezone

from ..search import fold, search_stems
from .choices import InitiativeStatus


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
        return self.filter(status=InitiativeStatus.PUBLISHED)

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
        through = self.model.themes.through.objects
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
        for initiative in self.exclude(status=InitiativeStatus.PUBLISHED):
            initiative.status = InitiativeStatus.PUBLISHED
            initiative.published_at = initiative.published_at or now
            initiative.save(update_fields=["status", "published_at", "updated_at"])
            changed += 1
        return changed

    def unpublish(self):
        """Send the selected published initiatives back to review."""
        return self.filter(status=InitiativeStatus.PUBLISHED).set_status(
            InitiativeStatus.SUBMITTED
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
