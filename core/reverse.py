"""Reverse the URLs of the catalogue's few fixed pages once per process.

A department's page, a theme's, a region's list… are linked from many places
on a page (the map links all 101 departments, its table again), and Django
reverses each link anew: a quarter of the map page's time. Their number is
bounded by the reference data, so their URLs are kept, per script prefix, and
forgotten when the URL configuration changes. Unbounded sets (initiatives,
collectivities) keep Django's `reverse`."""

import functools

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, reverse

# Departments, regions, themes, categories, vigilance points: a few hundred.
MAX_URLS = 1024


@functools.lru_cache(maxsize=MAX_URLS)
def _reversed(prefix, viewname, args):
    return reverse(viewname, args=args)  # reverse() reads the same prefix


def cached_reverse(viewname, *args):
    """`reverse(viewname, args=args)`, computed once per process and prefix."""
    return _reversed(get_script_prefix(), viewname, args)


@receiver(setting_changed)
def forget_urls(*, setting, **kwargs):
    if setting in ("ROOT_URLCONF", "FORCE_SCRIPT_NAME"):
        _reversed.cache_clear()
