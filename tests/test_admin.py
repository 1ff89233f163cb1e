import pytest
from django.contrib import admin
from django.urls import reverse

from initiatives.models import Initiative
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


@pytest.mark.parametrize(
    "query",
    [
        "status=published",
        "themes__id__exact=1",
        "department=13",
        "category__id__exact=1",
    ],
)
def test_initiative_changelist_filters(staff_client, query):
    url = reverse("admin:initiatives_initiative_changelist") + "?" + query
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "errors" not in response.context or not response.context["errors"]


def test_department_filter_narrows_the_changelist(staff_client):
    url = reverse("admin:initiatives_initiative_changelist") + "?department=13"
    rows = staff_client.get(url).context["cl"].result_list
    assert rows and {i.collectivity.department.code for i in rows} == {"13"}


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
