from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from core.validators import strip_control_characters

from .filters import InitiativeFilter
from .models import Initiative

FEED_SIZE = 30


class InitiativeFeed(Feed):
    """Newly published initiatives, for the whole catalogue or any filtered list:
    the feed reads the list page's query parameters."""

    feed_type = Atom1Feed
    title = "Initiatives numériques des collectivités : nouvelles publications"
    subtitle = (
        "Les dernières initiatives publiées sur le portail, selon les filtres choisis."
    )

    def get_object(self, request):
        published = Initiative.objects.published().for_listing()
        filterset = InitiativeFilter(request.GET, queryset=published)
        filterset.query_string = request.GET.urlencode()
        return filterset

    def link(self, filterset):
        query = filterset.query_string
        return reverse("initiatives:list") + (f"?{query}" if query else "")

    def items(self, filterset):
        if not filterset.is_valid():
            return Initiative.objects.none()
        return filterset.qs.order_by("-published_at", "-pk")[:FEED_SIZE]

    # Forms refuse control characters; rows written before, or by SQL, are
    # cleaned here: XML cannot carry them, and one would break the feed.
    def item_title(self, item):
        return strip_control_characters(f"{item.title} ({item.collectivity.name})")

    def item_description(self, item):
        return strip_control_characters(item.summary)

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item):
        return strip_control_characters(item.collectivity.name)

    def item_categories(self, item):
        return [strip_control_characters(theme.name) for theme in item.themes.all()]
