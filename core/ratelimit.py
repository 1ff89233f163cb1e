"""Rate limits that hold: fixed-window counters that nothing but time removes.

A limit counts hits per client and per window (an hour, a minute) under a key
that names the window, with an explicit expiry at the window's end. The
counters live in Redis when REDIS_URL is set (INCR keeps the key's expiry, and
Redis evicts nothing under its default `noeviction` policy), otherwise in their
own table (`core.RateCounter`), counted with one atomic UPDATE: never in a
cache that culls its oldest keys to make room, nor one whose increment resets
the expiry. When Redis does not answer, limits are suspended rather than pages
failing (core/cache.py).
"""

import datetime
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .logs import hash_address

CACHE_ALIAS = "ratelimit"


@dataclass(frozen=True)
class Limit:
    """At most `count` hits per client in each window of `seconds`."""

    scope: str
    count: int
    seconds: int

    PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    @classmethod
    def parse(cls, scope: str, rate: str) -> "Limit":
        """Read a rate as DRF writes it: "120/minute", "10/hour", "5/s"."""
        count, period = rate.split("/")
        return cls(scope, int(count), cls.PERIODS[period.strip()[0]])


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends


def window(limit: Limit, ident: str, now: float) -> tuple[str, int]:
    """The counter's key for this window, and the window's end (epoch seconds).
    The client's address is hashed: the key store never holds addresses."""
    number = int(now // limit.seconds)
    key = f"{limit.scope}:{hash_address(ident)}:{number}"
    return key, (number + 1) * limit.seconds


def hit(limit: Limit, ident: str) -> Verdict:
    """Count one hit of `ident`; tell whether it stays within the limit."""
    return _verdict(limit, ident, delta=1)


def peek(limit: Limit, ident: str) -> Verdict:
    """Tell whether one more hit of `ident` would stay within the limit,
    counting nothing."""
    verdict = _verdict(limit, ident, delta=0)
    allowed = verdict.count < limit.count
    return Verdict(allowed, verdict.count, verdict.retry_after)


def _verdict(limit: Limit, ident: str, delta: int) -> Verdict:
    now = time.time()
    key, ends = window(limit, ident, now)
    if uses_redis():
        count = _redis_count(key, ends - now, delta)
    else:
        count = _table_count(key, ends, delta)
    return Verdict(count <= limit.count, count, max(1, int(ends - now) + 1))


def uses_redis() -> bool:
    return CACHE_ALIAS in settings.CACHES


def _redis_count(key: str, seconds_left: float, delta: int) -> int:
    cache = caches[CACHE_ALIAS]
    timeout = max(1, int(seconds_left) + 1)
    if not delta:
        return cache.get(key, 0)
    cache.add(key, 0, timeout)
    return cache.incr(key, delta)


def _table_count(key: str, ends: int, delta: int) -> int:
    from .models import RateCounter

    counters = RateCounter.objects.filter(key=key)
    if not delta:
        return counters.values_list("count", flat=True).first() or 0
    if not counters.update(count=F("count") + delta):
        expires_at = datetime.datetime.fromtimestamp(ends, datetime.UTC)
        try:
            with transaction.atomic():
                RateCounter.objects.create(key=key, count=delta, expires_at=expires_at)
        except IntegrityError:  # created by a concurrent request meanwhile
            counters.update(count=F("count") + delta)
        else:
            # Once per client and window: drop the counters of ended windows.
            RateCounter.objects.filter(expires_at__lte=timezone.now()).delete()
    return counters.values_list("count", flat=True).get()
