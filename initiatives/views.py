from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from .models import Collectivity, Department, Initiative, Theme


def home(request):
    published = Initiative.objects.published().for_listing()
    context = {
        "featured": published.featured(),
        "initiatives": published,
        "themes": Theme.objects.all(),
    }
    return render(request, "initiatives/home.html", context)


def initiative_list(request):
    published = Initiative.objects.published().for_listing()
    page = Paginator(published, 24).get_page(request.GET.get("page"))
    return render(request, "initiatives/initiative_list.html", {"page": page})


def initiative_detail(request, slug):
    initiative = get_object_or_404(
        Initiative.objects.published()
        .for_listing()
        .prefetch_related("vigilance_points"),
        slug=slug,
    )
    return render(
        request, "initiatives/initiative_detail.html", {"initiative": initiative}
    )


def collectivity_detail(request, slug):
    collectivity = get_object_or_404(
        Collectivity.objects.select_related("department__region"), slug=slug
    )
    initiatives = collectivity.initiatives.published().for_listing()
    context = {"collectivity": collectivity, "initiatives": initiatives}
    return render(request, "initiatives/collectivity_detail.html", context)


def department_detail(request, code):
    department = get_object_or_404(
        Department.objects.select_related("region"), code=code.upper()
    )
    initiatives = (
        Initiative.objects.published()
        .for_listing()
        .filter(collectivity__department=department)
    )
    context = {"department": department, "initiatives": initiatives}
    return render(request, "initiatives/department_detail.html", context)


def theme_detail(request, slug):
    theme = get_object_or_404(Theme, slug=slug)
    initiatives = theme.initiatives.published().for_listing()
    context = {"theme": theme, "initiatives": initiatives}
    return render(request, "initiatives/theme_detail.html", context)
