from django.shortcuts import get_object_or_404, render

from .models import VigilancePoint


def vigilance_point_list(request):
    context = {"points": VigilancePoint.objects.with_counts()}
    return render(request, "vigilance/vigilancepoint_list.html", context)


def vigilance_point_detail(request, slug):
    point = get_object_or_404(VigilancePoint, slug=slug)
    initiatives = point.initiatives.published().for_cards()
    context = {"point": point, "initiatives": initiatives}
    return render(request, "vigilance/vigilancepoint_detail.html", context)
