import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from initiatives.models import Collectivity, Department
from initiatives.quality import expected_department, find_problems, label_issues
from tests.factories import CollectivityFactory, InitiativeFactory

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate().year


def found(kind):
    """Return the objects `find_problems()` reports as `kind`, each with its URL."""
    return [(p.obj, p.url) for p in find_problems() if p.kind == kind]


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def martigues():
    return Collectivity.objects.get(code="13056")


def run_command(*args):
    out = io.StringIO()
    call_command("check_data_quality", *args, stdout=out)
    return out.getvalue()


def test_seed_data_has_no_problems():
    assert find_problems() == []


def test_command_reports_no_problem_on_seed_data():
    assert "Aucun problème." in run_command("--fail")


def test_unknown_code_is_found():
    collectivity = CollectivityFactory(code="13999")
    assert found("unknown_code") == [(collectivity, change_url(collectivity))]


@pytest.mark.parametrize(
    ("code", "field", "value"),
    [
        ("13056", "name", "Martigue"),
        ("13056", "department", "60"),
        ("200054807", "kind", Collectivity.Kind.CC),  # Métropole Aix-Marseille
    ],
)
def test_collectivity_differing_from_the_reference_is_found(code, field, value):
    if field == "department":
        value = Department.objects.get(code=value)
    Collectivity.objects.filter(code=code).update(**{field: value})
    collectivity = Collectivity.objects.get(code=code)
    assert found("mismatched_code") == [(collectivity, change_url(collectivity))]


def test_commune_under_another_department_than_its_code_is_found():
    Collectivity.objects.filter(code="13056").update(
        department=Department.objects.get(code="60")
    )
    assert found("department_mismatch") == [(martigues(), change_url(martigues()))]


@pytest.mark.parametrize(
    ("code", "department"), [("60999", "13"), ("2A999", "2B"), ("97199", "972")]
)
def test_department_mismatch_is_found_for_codes_the_reference_ignores(code, department):
    collectivity = CollectivityFactory(
        code=code, department=Department.objects.get(code=department)
    )
    assert found("department_mismatch") == [(collectivity, change_url(collectivity))]
    assert found("unknown_code") == [(collectivity, change_url(collectivity))]


@pytest.mark.parametrize(
    ("code", "department"),
    [("13056", "13"), ("2A004", "2A"), ("2B033", "2B"), ("97105", "971")],
)
def test_expected_department_is_the_insee_code_prefix(code, department):
    assert expected_department(code) == department


def test_malformed_code_has_no_expected_department():
    assert expected_department("X0001") is None


@pytest.mark.parametrize("year", [1900, THIS_YEAR + 2, 2150])
def test_label_year_out_of_range_is_found(year):
    # The database only requires a level for a year: any year can be planted.
    collectivity = Collectivity.objects.labelled().first()
    Collectivity.objects.filter(pk=collectivity.pk).update(label_year=year)
    assert found("label_out_of_range") == [(collectivity, change_url(collectivity))]


@pytest.mark.parametrize(
    ("level", "year"),
    # CHECK constraints forbid these rows; data can still come from elsewhere.
    [(6, 2021), (None, 2021)],
)
def test_label_the_database_forbids_is_described(level, year):
    assert label_issues(level, year, THIS_YEAR)


@pytest.mark.parametrize(("level", "year"), [(None, None), (0, None), (5, 2021)])
def test_valid_label_has_no_issue(level, year):
    assert label_issues(level, year, THIS_YEAR) == []


def test_published_initiative_without_theme_is_found():
    initiative = InitiativeFactory(published=True, collectivity=martigues())
    InitiativeFactory(collectivity=martigues())  # a draft may lack themes
    assert found("no_theme") == [(initiative, change_url(initiative))]


def test_image_with_blank_alt_is_found():
    initiative = InitiativeFactory(
        collectivity=martigues(), image="initiatives/photo.jpg", image_alt=" \t"
    )
    InitiativeFactory(
        collectivity=martigues(), image="initiatives/autre.jpg", image_alt="Un plan"
    )
    assert found("image_without_alt") == [(initiative, change_url(initiative))]


def test_command_prints_each_problem_with_its_link():
    initiative = InitiativeFactory(published=True, collectivity=martigues())
    output = run_command()
    url = settings.SITE_URL + change_url(initiative)
    line = f"[no_theme] « {initiative.title} » est publiée sans thème. — {url}"
    assert line in output
    assert "1 problème(s)" in output


def test_command_fails_on_problems_when_asked():
    InitiativeFactory(published=True, collectivity=martigues())
    with pytest.raises(CommandError):
        run_command("--fail")


def test_admin_page_lists_problems_with_links(staff_client):
    initiative = InitiativeFactory(published=True, collectivity=martigues())
    response = staff_client.get(reverse("admin:data_quality"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Qualité des données" in content
    assert initiative.title in content
    assert f'href="{change_url(initiative)}"' in content
    assert "Corriger" in content


def test_admin_page_says_when_all_is_well(staff_client):
    response = staff_client.get(reverse("admin:data_quality"))
    assert "Aucun problème détecté." in response.content.decode()


def test_admin_page_sends_anonymous_to_login(client):
    response = client.get(reverse("admin:data_quality"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_admin_page_forbids_staff_without_permission(
    client, django_user_model, verified_login
):
    user = django_user_model.objects.create_user("stagiaire", is_staff=True)
    verified_login(client, user)
    assert client.get(reverse("admin:data_quality")).status_code == 403


def test_admin_index_links_to_the_page(staff_client):
    response = staff_client.get(reverse("admin:index"))
    assert response.context["data_quality_url"] == reverse("admin:data_quality")


@pytest.mark.parametrize("rows", [1, 30])
def test_find_problems_query_count(django_assert_max_num_queries, rows):
    for _ in range(rows):
        CollectivityFactory()
        InitiativeFactory(
            published=True,
            collectivity=martigues(),
            image="initiatives/photo.jpg",
            image_alt=" ",
        )
    # collectivity rows, flagged collectivities, themeless, images
    with django_assert_max_num_queries(4):
        problems = find_problems()
    assert len(problems) == 3 * rows
