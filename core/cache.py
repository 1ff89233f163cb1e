"""A Redis cache that the portal survives without.

Rate limits and cached fragments live in the cache; when Redis is unreachable a
page must still render. Each failing call is logged and answers as a cache miss,
and Redis is left alone for a few seconds so that every request does not wait
for a connection timeout."""

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("portal.cache")

RETRY_AFTER_SECONDS = 10


def _or_fallback(fallback):
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            default = fallback(*args, **kwargs) if callable(fallback) else fallback
            if time.monotonic() < self._down_until:
                return default
            try:
                return method(self, *args, **kwargs)
            except RedisError:
                logger.warning(
                    "cache unavailable: %s skipped", method.__name__, exc_info=True
                )
                self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
                return default

        return wrapper

    return decorate


def _default(key, default=None, *args, **kwargs):
    return default


def _delta(key, delta=1, *args, **kwargs):
    return delta


class ResilientRedisCache(RedisCache):
    """RedisCache whose errors mean "nothing cached": reads return the default,
    writes do nothing, counters start again (so rate limits fail open)."""

    _down_until = 0.0

    get = _or_fallback(_default)(RedisCache.get)
    set = _or_fallback(None)(RedisCache.set)
    add = _or_fallback(False)(RedisCache.add)
    touch = _or_fallback(False)(RedisCache.touch)
    delete = _or_fallback(False)(RedisCache.delete)
    incr = _or_fallback(_delta)(RedisCache.incr)
    has_key = _or_fallback(False)(RedisCache.has_key)
    get_many = _or_fallback(lambda keys, *args, **kwargs: {})(RedisCache.get_many)
    set_many = _or_fallback(lambda data, *args, **kwargs: list(data))(
        RedisCache.set_many
    )
    delete_many = _or_fallback(None)(RedisCache.delete_many)
    clear = _or_fallback(False)(RedisCache.clear)

    def ping(self):
        """Tell whether Redis answers now (the health check)."""
        try:
            return bool(self._cache.get_client(write=True).ping())
        except RedisError:
            return False
