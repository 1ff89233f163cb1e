from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from . import maps
from .facets import links
from .facets.counts import count, published_count
from .facets.options import by_value, facet_options
from .facets.planning import sized
from .filters import InitiativeFilter, SortChoices
from .models import Category, Collectivity, Department, Initiative, Theme

PAGE_SIZE = 20
# Beyond this page the OFFSET walks too many rows: the list stops there and asks
# the visitor to narrow the selection.
MAX_PAGES = 500
# A department's or theme's page shows its latest initiatives, then links to
# the list filtered on it.
PREVIEW = 12


class IndexPaginator(Paginator):
    """Read a page's ids first, then their rows: the ids come from the sort's
    index alone, so a deep page skips index entries, not rows. The rows are
    loaded by primary key from `rows` when given (the selection's conditions
    need not run twice), else from the object list. Given `count` (read from
    the facet pairs), it trusts it rather than counting the rows."""

    def __init__(self, object_list, per_page, count=None, rows=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.rows = object_list if rows is None else rows
        if count is not None:
            self.count = count  # replaces the cached property

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in self.rows.filter(pk__in=ids).order_by()}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)


class CappedPaginator(IndexPaginator):
    """Serve at most MAX_PAGES pages; a page beyond gives the last one served."""

    @property
    def num_pages(self):
        return min(super().num_pages, MAX_PAGES)

    @property
    def is_capped(self):
        return super().num_pages > MAX_PAGES


def initiative_list(request):
    published = Initiative.objects.published()
    filterset = InitiativeFilter(request.GET, queryset=published)
    valid = filterset.is_valid()
    # Counted whatever the validity: an invalid parameter leaves the others'
    # facets to choose from.
    counts = count(filterset)
    initiatives = sized(filterset.qs, counts.sizes) if valid else published.none()
    total = counts.total if valid else 0
    cards = Initiative.objects.for_cards()
    paginator = CappedPaginator(initiatives, PAGE_SIZE, count=total, rows=cards)
    page = paginator.get_page(request.GET.get("page"))
    facets = facet_options(filterset, counts)
    context = {
        "filter": filterset,
        "page": page,
        "facets": facets,
        "active_filters": links.active_filters(filterset.data, facets),
        "sort_choices": SortChoices.CHOICES,
        "sort": filterset.current_sort,
        "feed_url": links.feed_url(filterset.data),
        "csv_url": links.export_url(filterset.data, "initiatives:data_initiatives_csv"),
    }
    return render(request, "initiatives/initiative_list.html", context)


def initiative_detail(request, slug):
    initiative = get_object_or_404(
        Initiative.objects.published().for_detail(), slug=slug
    )
    context = {
        "initiative": initiative,
        "related": Initiative.objects.published().related_to(initiative),
        "changelog": initiative.public_changelog(),
    }
    return render(request, "initiatives/initiative_detail.html", context)


def collectivity_list(request):
    context = {"collectivities": Collectivity.objects.with_initiative_counts()}
    return render(request, "initiatives/collectivity_list.html", context)


def collectivity_detail(request, slug):
    collectivity = get_object_or_404(
        Collectivity.objects.select_related("department__region"), slug=slug
    )
    context = {
        "collectivity": collectivity,
        "initiatives": collectivity.initiatives.published().for_cards(),
        "intercommunalities": collectivity.intercommunalities.all(),
    }
    return render(request, "initiatives/collectivity_detail.html", context)


def department_list(request):
    """The map and table of departments, answering the catalogue's filters."""
    filterset = InitiativeFilter(request.GET, queryset=Initiative.objects.published())
    valid = filterset.is_valid()
    counts = by_value(filterset, count(filterset), "department") if valid else {}
    departments = list(Department.objects.select_related("region"))
    for department in departments:
        department.initiative_count = counts.get(department.code, 0)
    names = {department.code: department.name for department in departments}
    context = {
        "filter": filterset,
        "departments": departments,
        "map": maps.department_map(counts, names, caption_id="departments-caption"),
        "legend": maps.legend(counts),
        "total": sum(counts.values()),
        "themes": Theme.objects.all(),
        "categories": Category.objects.all(),
        "selected": {name: request.GET.getlist(name) for name in ("theme", "category")},
    }
    return render(request, "initiatives/department_list.html", context)


def latest(initiatives):
    """The PREVIEW latest initiatives, for a page that links to the rest."""
    return initiatives.for_cards().order_by("-published_at", "-pk")[:PREVIEW]


def department_detail(request, code):
    department = get_object_or_404(
        Department.objects.select_related("region"), code=code.upper()
    )
    initiatives = Initiative.objects.published().filter(
        collectivity__department=department
    )
    context = {
        "department": department,
        "initiatives": latest(initiatives),
        "initiative_count": published_count(
            initiatives, "department", str(department.pk)
        ),
        "collectivities": Collectivity.objects.with_initiative_counts().filter(
            department=department
        ),
    }
    return render(request, "initiatives/department_detail.html", context)


def theme_detail(request, slug):
    theme = get_object_or_404(Theme, slug=slug)
    initiatives = theme.initiatives.published()
    context = {
        "theme": theme,
        "initiatives": latest(initiatives),
        "initiative_count": published_count(initiatives, "theme", str(theme.pk)),
        "themes": Theme.objects.all(),
    }
    return render(request, "initiatives/theme_detail.html", context)
