"""Rate limits for every app (votes, newsletter, API) in the shared cache: fixed windows counted with atomic `add` + `incr`.

We wrote these few lines rather than use django-ratelimit: its system check rejects the
local-memory cache, it answers 403 where readers should get 429 with
Retry-After, and the voter key is only known after the signed cookie has been checked.
The counters live in the "votes" cache: Redis when REDIS_URL is set (shared by every app
server); otherwise local memory, where each process counts alone — enough for one small
instance, and never the file cache, whose increments are neither atomic nor cheap.
"""

import time

from django.conf import settings
from django.core.cache import caches

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_parse(rate: str) -> tuple[int, int]:
    """Parse "30/m" into (30, 60)."""
    count, _, unit = rate.partition("/")
    return int(count), PERIODS[unit.strip()[:1]]


def rate_setting(name: str, default: str) -> tuple[int, int]:
    return rate_parse(getattr(settings, name, default))


def limit_exceeded(key: str, rate: tuple[int, int]) -> int:
    """Count one hit on `key`; return the seconds to wait when over the rate, else 0."""
    count, period = rate
    now = time.time()
    window = int(now // period)
    cache_key = f"votes:rate:{key}:{window}"
    cache = caches["votes" if "votes" in settings.CACHES else "default"]
    cache.add(cache_key, 0, timeout=period + 5)
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=period + 5)
        hits = 1
    if hits <= count:
        return 0
    return max(1, int((window + 1) * period - now) + 1)


def client_ip(request) -> str:
    """The reader's address: REMOTE_ADDR, or the header a trusted proxy sets.

    Behind nginx every request comes from the proxy; set SHIPWITH_VOTES_IP_HEADER (e.g.
    "X-Real-IP") so readers are told apart. Only set it when a proxy always overwrites it.
    """
    header = getattr(settings, "SHIPWITH_VOTES_IP_HEADER", "")
    if header and (value := request.headers.get(header)):
        return value.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")
