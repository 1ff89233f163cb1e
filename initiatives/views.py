from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from .filters import InitiativeFilter, SortChoices
from .models import Collectivity, Department, Initiative, Theme

PAGE_SIZE = 20


def initiative_list(request):
    published = Initiative.objects.published().for_listing()
    filterset = InitiativeFilter(request.GET, queryset=published)
    initiatives = filterset.qs if filterset.is_valid() else published.none()
    page = Paginator(initiatives, PAGE_SIZE).get_page(request.GET.get("page"))
    facets = filterset.facets()
    context = {
        "filter": filterset,
        "page": page,
        "facets": facets,
        "active_filters": filterset.active_filters(facets),
        "sort_choices": SortChoices.CHOICES,
        "sort": filterset.current_sort,
        "feed_url": filterset.feed_url(),
    }
    return render(request, "initiatives/initiative_list.html", context)


def initiative_detail(request, slug):
    initiative = get_object_or_404(
        Initiative.objects.published().for_detail(), slug=slug
    )
    context = {
        "initiative": initiative,
        "related": Initiative.objects.published().related_to(initiative),
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
        "initiatives": collectivity.initiatives.published().for_listing(),
        "intercommunalities": collectivity.intercommunalities.all(),
    }
    return render(request, "initiatives/collectivity_detail.html", context)


def department_list(request):
    departments = Department.objects.with_counts().order_by("region__name", "code")
    context = {"departments": departments}
    return render(request, "initiatives/department_list.html", context)


def department_detail(request, code):
    department = get_object_or_404(
        Department.objects.select_related("region"), code=code.upper()
    )
    initiatives = (
        Initiative.objects.published()
        .for_listing()
        .filter(collectivity__department=department)
    )
    context = {
        "department": department,
        "initiatives": initiatives,
        "collectivities": Collectivity.objects.with_initiative_counts().filter(
            department=department
        ),
    }
    return render(request, "initiatives/department_detail.html", context)


def theme_detail(request, slug):
    theme = get_object_or_404(Theme, slug=slug)
    context = {
        "theme": theme,
        "initiatives": theme.initiatives.published().for_listing(),
        "themes": Theme.objects.all(),
    }
    return render(request, "initiatives/theme_detail.html", context)
