"""The portal's URLs, plus the reference page of the benchmark: the minimal
hand-written Django list page issue 8 measures the faceted list against (a
20-row table, one filter, no facet counts), served by the same server, through
the same middleware, in the same run. Its share of the trivial view's throughput
is the floor of a Django page on this machine; the faceted list's share is read
next to it."""

from django.http import HttpResponse
from django.template import engines
from django.urls import path

from initiatives.models import Initiative
from portal.urls import urlpatterns as portal_urlpatterns

PATH = "reference/"
TEMPLATE = engines["django"].from_string(
    """<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>Initiatives</title></head>
<body>
<main>
<h1>Initiatives</h1>
<form method="get"><label for="department">Département</label>
<input id="department" name="department" value="{{ department }}">
<button>Filtrer</button></form>
<table>
<thead><tr><th scope="col">Initiative</th><th scope="col">Collectivité</th>
<th scope="col">Département</th></tr></thead>
<tbody>
{% for initiative in initiatives %}<tr>
<td><a href="{{ initiative.get_absolute_url }}">{{ initiative.title }}</a></td>
<td>{{ initiative.collectivity.name }}</td>
<td>{{ initiative.collectivity.department.code }}</td>
</tr>{% endfor %}
</tbody>
</table>
</main>
</body>
</html>
"""
)


def reference_list(request):
    """The first 20 published initiatives by title, of one department if asked."""
    initiatives = Initiative.objects.published().select_related(
        "collectivity__department"
    )
    department = request.GET.get("department", "")
    if department:
        initiatives = initiatives.filter(collectivity__department__code=department)
    rows = initiatives.only(
        "title", "slug", "collectivity__name", "collectivity__department__code"
    ).order_by("title", "pk")[:20]
    context = {"initiatives": rows, "department": department}
    return HttpResponse(TEMPLATE.render(context, request))


urlpatterns = [*portal_urlpatterns, path(PATH, reference_list)]
