"""Rate limits that hold: one client identity, counters nothing removes but
time, an expiry at the end of the window."""

import datetime

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from django.utils import timezone

from core import ratelimit
from core.clients import client_ip
from core.models import RateCounter

pytestmark = pytest.mark.django_db

API = "/api/v1/themes/"


def test_rotating_x_forwarded_for_does_not_escape_the_api_throttle(client, settings):
    settings.API_ANONYMOUS_RATE = "3/minute"
    settings.TRUSTED_PROXY_COUNT = 0
    statuses = [
        client.get(API, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(6)
    ]
    assert statuses == [200, 200, 200, 429, 429, 429]
    # One counter for the one client, not one per forged header.
    assert RateCounter.objects.filter(key__startswith="api:").count() == 1


def test_behind_a_trusted_proxy_each_client_has_its_own_allowance(client, settings):
    settings.API_ANONYMOUS_RATE = "2/minute"
    settings.TRUSTED_PROXY_COUNT = 1

    def get(address):
        return client.get(API, HTTP_X_FORWARDED_FOR=f"6.6.6.6, {address}").status_code

    assert [get("198.51.100.1") for _ in range(3)] == [200, 200, 429]
    assert get("198.51.100.2") == 200


def test_the_throttle_says_when_to_come_back(client, settings):
    settings.API_ANONYMOUS_RATE = "1/minute"
    client.get(API)
    response = client.get(API)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60


@pytest.mark.parametrize(
    ("address", "identity"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
    ],
)
def test_an_ipv6_client_is_its_network(address, identity):
    request = RequestFactory().get("/", REMOTE_ADDR=address)
    assert client_ip(request) == identity


def test_many_other_clients_never_push_a_counter_out(settings):
    limit = ratelimit.Limit("essai", 2, 3600)
    for _ in range(2):
        assert ratelimit.hit(limit, "192.0.2.1").allowed
    # More distinct clients than the database cache held (300 entries).
    for n in range(400):
        ratelimit.hit(limit, f"198.51.{n // 256}.{n % 256}")
    cache.clear()
    assert not ratelimit.hit(limit, "192.0.2.1").allowed


def test_a_counter_expires_at_the_end_of_its_window_not_before():
    limit = ratelimit.Limit("essai", 1, 3600)
    ratelimit.hit(limit, "192.0.2.1")
    ratelimit.hit(limit, "192.0.2.1")
    counter = RateCounter.objects.get()
    assert counter.count == 2
    ends = timezone.now() + datetime.timedelta(hours=1)
    assert timezone.now() < counter.expires_at <= ends
    assert counter.expires_at.timestamp() % 3600 == 0  # the window's end


def test_ended_windows_are_dropped_when_a_new_one_starts():
    RateCounter.objects.create(
        key="essai:ancien:1",
        count=5,
        expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )
    ratelimit.hit(ratelimit.Limit("essai", 1, 60), "192.0.2.1")
    assert list(RateCounter.objects.values_list("key", flat=True)) != []
    assert not RateCounter.objects.filter(key="essai:ancien:1").exists()


def test_counters_never_hold_an_address():
    ratelimit.hit(ratelimit.Limit("essai", 1, 60), "192.0.2.1")
    assert "192.0.2.1" not in RateCounter.objects.get().key


@override_settings(
    CACHES={
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "ratelimit-tests",
        },
    }
)
def test_with_a_cache_for_limits_the_counters_live_there():
    limit = ratelimit.Limit("essai", 2, 3600)
    assert ratelimit.uses_redis()
    verdicts = [ratelimit.hit(limit, "192.0.2.9").allowed for _ in range(3)]
    assert verdicts == [True, True, False]
    assert not RateCounter.objects.exists()


def test_a_rate_reads_as_drf_writes_it():
    assert ratelimit.Limit.parse("api", "120/minute") == ratelimit.Limit("api", 120, 60)
    assert ratelimit.Limit.parse("api", "10/hour").seconds == 3600
