import pytest
from django.contrib import admin
from django.db.models import Q
from django.urls import reverse

from initiatives.models import Category, Initiative, Theme
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

MODELS = [model._meta for model in admin.site._registry]
# The moderation queue lists what the public submitted, axes records login
# attempts, the outbox and the task results what the portal did: nothing is
# added there.
NO_ADD = {
    "pendinginitiative",
    "accessattempt",
    "accesslog",
    "accessfailurelog",
    "mail",
    "dbtaskresult",
}
ADMIN_PAGES = [
    reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}")
    for opts in MODELS
    for page in ("changelist", "add")
    if not (page == "add" and opts.model_name in NO_ADD)
]


def test_every_project_model_is_registered():
    registered = {f"{opts.app_label}.{opts.model_name}" for opts in MODELS}
    for name in [
        "initiatives.region",
        "initiatives.department",
        "initiatives.collectivity",
        "initiatives.category",
        "initiatives.theme",
        "initiatives.initiative",
        "surveys.survey",
        "surveys.submission",
        "surveys.keyfigure",
        "vigilance.vigilancepoint",
    ]:
        assert name in registered


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_page_answers_staff(staff_client, url):
    assert staff_client.get(url).status_code == 200


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_page_sends_anonymous_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def changelist_filters():
    """Each filter of the initiative changelist: a query string choosing one
    of its values, and the plain condition the rows it keeps meet."""
    theme = Theme.objects.get(slug="teletravail")
    category = Category.objects.get(slug="cohesion-sociale")
    return {
        "status": ("status__exact=submitted", Q(status="submitted")),
        "themes": (f"themes__id__exact={theme.pk}", Q(themes=theme)),
        "department": ("department=13", Q(collectivity__department__code="13")),
        "category": (f"category__id__exact={category.pk}", Q(category=category)),
        "is_featured": ("is_featured__exact=1", Q(is_featured=True)),
        "two filters": (
            "status__exact=published&department=62",
            Q(status="published", collectivity__department__code="62"),
        ),
    }


@pytest.mark.parametrize(
    "name",
    ["status", "themes", "department", "category", "is_featured", "two filters"],
)
def test_each_changelist_filter_keeps_the_rows_it_should(staff_client, name):
    InitiativeFactory.create_batch(2)  # the seed has no submitted initiative
    query, condition = changelist_filters()[name]
    url = reverse("admin:initiatives_initiative_changelist") + "?" + query
    response = staff_client.get(url)
    assert response.status_code == 200
    changelist = response.context["cl"]
    expected = set(Initiative.objects.filter(condition).values_list("pk", flat=True))
    assert 0 < len(expected) < Initiative.objects.count()  # it narrows
    assert changelist.result_count == len(expected)
    assert {initiative.pk for initiative in changelist.result_list} == expected


def test_bulk_publish_and_unpublish(staff_client):
    drafts = InitiativeFactory.create_batch(2)
    url = reverse("admin:initiatives_initiative_changelist")
    ids = [str(d.pk) for d in drafts]
    staff_client.post(url, {"action": "publish", "_selected_action": ids})
    assert Initiative.objects.filter(pk__in=ids).published().count() == 2
    staff_client.post(url, {"action": "unpublish", "_selected_action": ids})
    assert not Initiative.objects.filter(pk__in=ids).published().exists()


def test_collectivity_autocomplete_finds_a_town(staff_client):
    url = reverse("admin:autocomplete")
    response = staff_client.get(
        url,
        {
            "term": "Martigues",
            "app_label": "initiatives",
            "model_name": "initiative",
            "field_name": "collectivity",
        },
    )
    assert response.status_code == 200
    assert any("Martigues" in r["text"] for r in response.json()["results"])
