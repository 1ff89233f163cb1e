"""The fixed pages' URLs, reversed once per process (core/reverse.py)."""

import pytest
from django.test import override_settings
from django.urls import clear_script_prefix, reverse, set_script_prefix

from core import reverse as reversing
from initiatives.models import Department

pytestmark = pytest.mark.django_db


def test_a_kept_url_is_the_reversed_one_under_each_prefix():
    department = Department.objects.get(code="13")
    expected = reverse("initiatives:department_detail", args=["13"])
    assert department.get_absolute_url() == expected == "/departements/13/"
    try:
        set_script_prefix("/portail/")
        assert department.get_absolute_url() == "/portail/departements/13/"
    finally:
        clear_script_prefix()
    assert department.get_absolute_url() == expected


def test_kept_urls_are_forgotten_with_the_url_configuration():
    reversing.cached_reverse("initiatives:list")
    assert reversing._reversed.cache_info().currsize > 0
    with override_settings(ROOT_URLCONF="portal.urls"):
        assert reversing._reversed.cache_info().currsize == 0
