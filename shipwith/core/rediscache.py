"""Django's Redis cache, made to ride out a Redis that is away for a moment (a restart, a
failover): a read is a miss, a write is dropped, an `add` goes ahead.

What the cache holds is a copy (rendered pages, memos) or a courtesy (a confirmation email's
cooldown, a fetch's pacing): without it a page renders from the database and an email goes
out, where Django's own backend would answer 500 or fail the task. `make soak` restarts Redis
mid-run to keep it so.
"""

import functools
import logging

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from redis.exceptions import ConnectionError, TimeoutError

logger = logging.getLogger(__name__)


def _outlive(fallback):
    """Answer `fallback(*args, **kwargs)` when Redis cannot be reached."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except (ConnectionError, TimeoutError) as exc:
                logger.warning("Redis unavailable (%s): cache %s skipped", exc, method.__name__)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


class RedisCache(DjangoRedisCache):
    get = _outlive(lambda key, default=None, version=None: default)(DjangoRedisCache.get)
    get_many = _outlive(lambda keys, version=None: {})(DjangoRedisCache.get_many)
    has_key = _outlive(lambda key, version=None: False)(DjangoRedisCache.has_key)
    set = _outlive(lambda *args, **kwargs: None)(DjangoRedisCache.set)
    set_many = _outlive(lambda data, *args, **kwargs: list(data))(DjangoRedisCache.set_many)
    add = _outlive(lambda *args, **kwargs: True)(DjangoRedisCache.add)
    touch = _outlive(lambda *args, **kwargs: False)(DjangoRedisCache.touch)
    delete = _outlive(lambda *args, **kwargs: False)(DjangoRedisCache.delete)
    delete_many = _outlive(lambda *args, **kwargs: None)(DjangoRedisCache.delete_many)
