"""Rate limits for every app (votes, newsletter, API), counted where every process sees them.

Fixed windows: the hits on a key in the current window (this minute, this UTC day…) are one
counter, raised by one atomic statement. The counters live in the database by default (one
upsert, however many keys; expired rows pruned about once a minute per process) and in Redis
when REDIS_URL is set (INCRBY + EXPIREAT, one round trip). Either way every gunicorn worker,
app server and task worker counts together: a limit kept in one process's memory is no limit
once there are several processes.

A process claims hits in blocks: for a generous limit it raises the shared counter by a
hundredth of it (at most BLOCK_MOST) and numbers its next requests from that block without
writing again. Every hit has its own number across all processes, so a window never allows
more than the limit; it may refuse early by the unused rest of other processes' blocks (under
1% of the limit each). A limit under 200 a window is counted hit by hit.

A limit "per day" that must hold for any 24 hours, not per calendar day (whose edge lets twice
the limit through in two minutes), is a rolling limit (`rolling_limit_exceeded`): the period is
cut into slices, and a hit is allowed while the current slice and the whole slices before it,
one period's worth plus the current one, hold fewer hits than the limit.

We wrote these lines rather than use django-ratelimit: it answers 403 where readers should get
429 with Retry-After, its system check refuses the local-memory cache, and the voter key is
only known after the signed cookie has been checked.
"""

import functools
import hashlib
import ipaddress
import logging
import math
import os
import threading
import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import F

from shipwith.core.models import RateWindow

logger = logging.getLogger("shipwith.limits")

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PRUNE_EVERY = 60  # seconds between deletions of expired windows, per process
BLOCK_SHARE = 100  # a block is at most this fraction of a limit…
BLOCK_MOST = 50  # …and at most this many hits
Rate = tuple[int, int]

_pruned_at = 0.0


@functools.lru_cache(maxsize=64)  # read from settings on every request; parsed once
def rate_parse(rate: str) -> Rate:
    """Parse "30/m" into (30, 60); the unit is s, m, h or d (or a word starting with one)."""
    count, _, unit = rate.partition("/")
    period = PERIODS.get(unit.strip()[:1].lower())
    if not count.strip().isdigit() or period is None:
        raise ValueError(f"not a rate: {rate!r} (expected N/s, N/m, N/h or N/d, e.g. 30/m)")
    return int(count), period


def rate_setting(name: str, default: str) -> Rate:
    try:
        return rate_parse(getattr(settings, name, default))
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from None


def limit_exceeded(key: str, rate: Rate) -> int:
    """Count one hit on `key`; return the seconds to wait when over the rate, else 0."""
    return limits_waits({key: rate})[key]


def limits_waits(rates: dict[str, Rate]) -> dict[str, int]:
    """Count one hit on each key at once; return each key's wait in seconds (0 when allowed)."""
    now = time.time()
    windows = {}
    for key, (count, period) in rates.items():
        window = int(now // period)
        windows[key] = (_window_key(key, window), count, (window + 1) * period)
    numbers = _blocks.take({name: (count, end) for name, count, end in windows.values()}, now)
    return {
        key: int(end - now) + 1 if numbers[name] > count else 0
        for key, (name, count, end) in windows.items()
    }


ROLLING_SLICES = 24  # a rolling day is counted in hours


def rolling_limit_exceeded(key: str, rate: Rate, slices: int = ROLLING_SLICES) -> int:
    """Count one hit on `key` against the last period, whenever it starts; return the seconds
    to wait when that would pass the rate (the hit is then not counted), else 0.

    Any stretch of one period lies within the current slice and the `slices` before it, so it
    never holds more than `count` allowed hits; the price is that a hit may wait up to one
    slice longer than strictly needed. A refused hit is taken back, so retrying does not push
    the wait out. Concurrent hits each get their own count from the atomic increment: no two
    processes can both take the last place.
    """
    count, period = rate
    width = max(1, period // slices)
    now = time.time()
    current = int(now // width)
    names = [_window_key(key, current - back) for back in range(slices + 1)]  # newest first
    # A slice is kept while it is within the span: until its end plus one period.
    total = _shared_hits({names[0]: (1, (current + 1) * width + period)}, now)[names[0]]
    earlier = _shared_read(names[1:])
    hits = [total, *(earlier.get(name, 0) for name in names[1:])]
    if sum(hits) <= count:
        return 0
    _shared_take_back(names[0])
    hits[0] -= 1
    # Wait until enough of the oldest slices have left the span for one more hit to fit.
    remaining = sum(hits)
    for back in range(slices, -1, -1):
        remaining -= hits[back]
        if remaining < count:
            leaves = (current - back + slices + 1) * width
            return max(1, math.ceil(leaves - now))
    return period  # unreachable while count >= 1: dropping every slice leaves 0


def _shared_read(names: list[str]) -> dict[str, int]:
    """The current hits of several counters, missing ones left out."""
    if redis_url := getattr(settings, "SHIPWITH_LIMITS_REDIS_URL", ""):
        prefix = getattr(settings, "SHIPWITH_LIMITS_PREFIX", "shipwith:limit:")
        values = _redis(redis_url).mget([prefix + name for name in names])
        return {name: int(value) for name, value in zip(names, values, strict=True) if value}
    return dict(RateWindow.objects.filter(key__in=names).values_list("key", "hits"))


def _shared_take_back(name: str) -> None:
    """Undo one hit on a counter (a refused hit does not count)."""
    if redis_url := getattr(settings, "SHIPWITH_LIMITS_REDIS_URL", ""):
        prefix = getattr(settings, "SHIPWITH_LIMITS_PREFIX", "shipwith:limit:")
        _redis(redis_url).decr(prefix + name)
        return
    RateWindow.objects.filter(key=name).update(hits=F("hits") - 1)


def _block_size(count: int) -> int:
    return max(1, min(count // BLOCK_SHARE, BLOCK_MOST))


class _Blocks:
    """This process's claimed hit numbers, per window: (next number, last number, window end)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.held: dict[tuple[str, int], list[int]] = {}

    def take(self, windows: dict[str, tuple[int, int]], now: float) -> dict[str, int]:
        """The number of this hit on each window, claiming a new block where none is left."""
        with self.lock:
            if self.pid != os.getpid():  # a forked child must not reuse its parent's numbers
                self.pid, self.held = os.getpid(), {}
            numbers, claims = {}, {}
            for name, (count, end) in windows.items():
                block = self.held.get((name, count))
                if block and block[0] <= block[1]:
                    numbers[name] = block[0]
                    block[0] += 1
                else:
                    claims[name] = (_block_size(count), end)
        if claims:  # outside the lock: the round trip must not hold up the other threads
            totals = _shared_hits(claims, now)
            with self.lock:
                for name, (size, end) in claims.items():
                    first = totals[name] - size + 1
                    numbers[name] = first
                    if size > 1:
                        count = windows[name][0]
                        self.held[(name, count)] = [first + 1, totals[name], end]
                if len(self.held) > 1000:
                    self.held = {k: v for k, v in self.held.items() if v[2] > now}
        return numbers

    def forget(self) -> None:
        with self.lock:
            self.held = {}


_blocks = _Blocks()


def _shared_hits(claims: dict[str, tuple[int, int]], now: float) -> dict[str, int]:
    """Raise each window's shared counter by its block; return the new totals."""
    if redis_url := getattr(settings, "SHIPWITH_LIMITS_REDIS_URL", ""):
        return _redis_hits(redis_url, claims)
    return _database_hits(claims, now)


def _window_key(key: str, window: int) -> str:
    if len(key) > 200:  # client-supplied parts stay within the column; a digest keeps them apart
        key = key[:100] + ":" + hashlib.sha256(key.encode()).hexdigest()
    return f"{key}@{window}"


def _database_hits(claims: dict[str, tuple[int, int]], now: float) -> dict[str, int]:
    """Upsert-increment every window in one statement (SQLite 3.35+ and PostgreSQL)."""
    table = connection.ops.quote_name(RateWindow._meta.db_table)
    rows = ", ".join(["(%s, %s, %s)"] * len(claims))
    params = [value for key, (size, ends) in claims.items() for value in (key, size, ends)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, hits, expires_at) VALUES {rows} ON CONFLICT (key) "
            f"DO UPDATE SET hits = {table}.hits + excluded.hits RETURNING key, hits",
            params,
        )
        hits = dict(cursor.fetchall())
    _prune(now)
    return hits


def _prune(now: float) -> None:
    global _pruned_at
    if now - _pruned_at < PRUNE_EVERY:
        return
    _pruned_at = now
    RateWindow.objects.filter(expires_at__lt=int(now)).delete()


_clients = threading.local()


def _redis(url: str):
    """This thread's client: connections shared between gunicorn's threads broke under load."""
    clients = _clients.__dict__.setdefault("by_url", {})
    if url not in clients:
        import redis

        clients[url] = redis.Redis.from_url(url)  # its pool reconnects after a fork
    return clients[url]


def _redis_hits(url: str, claims: dict[str, tuple[int, int]]) -> dict[str, int]:
    prefix = getattr(settings, "SHIPWITH_LIMITS_PREFIX", "shipwith:limit:")
    pipe = _redis(url).pipeline(transaction=False)
    for key, (size, ends) in claims.items():
        pipe.incrby(prefix + key, size)
        pipe.expireat(prefix + key, ends + 1)
    replies = pipe.execute()
    return dict(zip(claims, replies[0::2], strict=True))


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def trusted_proxies(value: str) -> int | tuple[Network, ...]:
    """Parse SHIPWITH_TRUSTED_PROXIES: a count of proxies in front, or their addresses/CIDRs."""
    value = value.strip()
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    networks = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"SHIPWITH_TRUSTED_PROXIES: {item!r} is neither an address nor a CIDR "
                "(give a count of proxies, e.g. 1, or addresses, e.g. 127.0.0.1,10.0.0.0/8)"
            ) from None
    return tuple(networks)


@functools.lru_cache(maxsize=4096)  # a hot client's address is parsed once, not per request
def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


_warned = False


def _untrusted_proxy_warn(peer: Address | None) -> None:
    """Say once per process that a proxy seems to be in front but is not trusted."""
    global _warned
    if _warned or peer is None or not (peer.is_loopback or peer.is_private):
        return
    _warned = True
    logger.warning(
        "X-Forwarded-For from %s is ignored: every reader counts as that address in the rate "
        "limits. Behind nginx set SHIPWITH_TRUSTED_PROXIES (e.g. 127.0.0.1).",
        peer,
    )


def _client_address(request) -> Address | None:
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    trusted = trusted_proxies(getattr(settings, "SHIPWITH_TRUSTED_PROXIES", "") or "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded:
        return peer
    if not trusted:
        _untrusted_proxy_warn(peer)
        return peer
    hops = [_address(part) for part in forwarded.split(",")]
    if isinstance(trusted, int):
        chain = [*hops, peer]  # the last `trusted` entries are the proxies
        return chain[-(trusted + 1)] if len(chain) > trusted else chain[0]
    if peer is None or not any(peer in network for network in trusted):
        return peer  # a client that is not one of our proxies: its header is its own story
    for hop in reversed(hops):
        if hop is None:
            return peer  # garbage where a proxy's entry should be: keep the last proxy we trust
        if not any(hop in network for network in trusted):
            return hop
    return hops[0] if hops else peer


def client_ip(request) -> str:
    """The client's address, as rate limits count it.

    It is REMOTE_ADDR, unless that peer is a trusted proxy (SHIPWITH_TRUSTED_PROXIES): then the
    right-most X-Forwarded-For entry that is not one of ours, the one our own proxy appended.
    Whatever a client writes in that header itself sits further left and is never read. An
    IPv6 client counts as its /64, the block one subscriber gets: not 2^64 separate readers.
    """
    address = _client_address(request)
    if address is None:
        return request.META.get("REMOTE_ADDR", "")
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
