import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from initiatives.models import Category, Collectivity, Initiative
from tests.factories import CollectivityFactory, InitiativeFactory

pytestmark = pytest.mark.django_db


def unsaved_initiative(**fields):
    return InitiativeFactory.build(
        collectivity=Collectivity.objects.get(code="13056"),
        category=Category.objects.first(),
        **fields,
    )


def assert_rejected(obj):
    """The database itself refuses the row, whatever the form layer does."""
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()


@pytest.mark.parametrize("level", [6, 9])
def test_label_level_above_five_is_rejected(level):
    assert_rejected(CollectivityFactory.build(label_level=level))


def test_label_level_within_range_is_accepted():
    collectivity = CollectivityFactory(label_level=5, label_year=2021)
    assert collectivity.label_display == "@@@@@ 2021"


def test_label_year_without_level_is_rejected():
    assert_rejected(CollectivityFactory.build(label_year=2020))


def test_unknown_collectivity_kind_is_rejected():
    assert_rejected(CollectivityFactory.build(kind="canton"))


def test_collectivity_code_is_unique():
    assert_rejected(CollectivityFactory.build(code="13056"))


def test_unknown_status_is_rejected():
    assert_rejected(unsaved_initiative(status="draft"))


def test_unknown_period_and_outcome_are_rejected():
    assert_rejected(unsaved_initiative(period="summer"))
    assert_rejected(unsaved_initiative(outcome="maybe"))


def test_duplicate_slug_is_rejected():
    existing = Initiative.objects.first()
    assert_rejected(unsaved_initiative(slug=existing.slug))


def test_image_without_alt_text_is_rejected():
    assert_rejected(unsaved_initiative(image="initiatives/photo.jpg"))


def test_end_before_start_is_rejected():
    initiative = unsaved_initiative(
        started_on=datetime.date(2020, 5, 1), ended_on=datetime.date(2020, 3, 1)
    )
    assert_rejected(initiative)
    with pytest.raises(ValidationError) as error:
        initiative.full_clean()
    assert "ended_on" in error.value.message_dict


def test_published_initiative_needs_a_publication_date():
    assert_rejected(unsaved_initiative(status=Initiative.Status.PUBLISHED))


def test_clean_dates_an_initiative_published_through_a_form():
    initiative = unsaved_initiative(status=Initiative.Status.PUBLISHED)
    initiative.full_clean()
    assert initiative.published_at is not None


def test_published_keeps_only_published_initiatives():
    hidden = [
        InitiativeFactory(status=status)
        for status in ("submitted", "rejected", "archived")
    ]
    shown = InitiativeFactory(published=True)
    published = Initiative.objects.published()
    assert shown in published
    assert not set(hidden) & set(published)
    assert set(published.values_list("status", flat=True)) == {"published"}


def test_publish_dates_first_publication_and_unpublish_hides():
    initiative = InitiativeFactory()
    assert Initiative.objects.filter(pk=initiative.pk).publish() == 1
    initiative.refresh_from_db()
    assert initiative.is_published and initiative.published_at is not None
    first_date = initiative.published_at
    Initiative.objects.filter(pk=initiative.pk).unpublish()
    Initiative.objects.filter(pk=initiative.pk).publish()
    initiative.refresh_from_db()
    assert initiative.published_at == first_date
    assert Initiative.objects.filter(pk=initiative.pk).unpublish() == 1
    assert not Initiative.objects.published().filter(pk=initiative.pk).exists()


def test_str_and_urls_use_official_codes_and_slugs():
    martigues = Collectivity.objects.get(code="13056")
    assert str(martigues) == "Martigues (13)"
    assert martigues.get_absolute_url() == "/collectivites/martigues-13/"
    assert martigues.department.get_absolute_url() == "/departements/13/"
    initiative = martigues.initiatives.first()
    assert initiative.get_absolute_url() == f"/initiatives/{initiative.slug}/"
