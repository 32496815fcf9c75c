"""Where the rate limits count: counters every process sees, in the database or in Redis.

A counter is a name, a number of hits and the Unix time it may be forgotten. The store is
chosen in one place (`counters()`): Redis when SHIPWITH_LIMITS_REDIS_URL is set (INCRBY +
EXPIREAT, one round trip), else the database (one upsert however many counters; expired rows
pruned about once a minute per process). A counter kept in one process's memory would be no
limit once there are several processes. While Redis is away (a restart, a failover) the limits
count in the database, so readers' votes and sign-ups go on, still limited.
"""

import functools
import logging
import threading
from typing import Protocol

from django.conf import settings
from django.db import connection
from django.db.models import F
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shipwith.core.models import RateWindow

logger = logging.getLogger(__name__)
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError)
PRUNE_EVERY = 60  # seconds between deletions of expired windows, per process

_pruned_at = 0.0


class Counters(Protocol):
    def add(self, claims: dict[str, tuple[int, int]], now: float) -> dict[str, int]:
        """Raise each counter by its amount, kept until its expiry; return the new totals."""

    def read(self, names: list[str]) -> dict[str, int]:
        """The current hits of several counters, missing ones left out."""

    def take_back(self, name: str) -> None:
        """Undo one hit on a counter (a refused hit does not count)."""


def counters() -> Counters:
    """The store every process counts in: Redis when SHIPWITH_LIMITS_REDIS_URL is set."""
    return _store(settings.SHIPWITH_LIMITS_REDIS_URL, settings.SHIPWITH_LIMITS_PREFIX)


@functools.cache
def _store(redis_url: str, prefix: str) -> Counters:
    return RedisCounters(redis_url, prefix) if redis_url else DatabaseCounters()


class DatabaseCounters:
    """Rows of RateWindow, raised in one statement (SQLite 3.35+ and PostgreSQL)."""

    def add(self, claims: dict[str, tuple[int, int]], now: float) -> dict[str, int]:
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

    def read(self, names: list[str]) -> dict[str, int]:
        return dict(RateWindow.objects.filter(key__in=names).values_list("key", "hits"))

    def take_back(self, name: str) -> None:
        RateWindow.objects.filter(key=name).update(hits=F("hits") - 1)


def _prune(now: float) -> None:
    global _pruned_at
    if now - _pruned_at < PRUNE_EVERY:
        return
    _pruned_at = now
    RateWindow.objects.filter(expires_at__lt=int(now)).delete()


class RedisCounters:
    """Keys under `prefix`, each expiring with its window; the database's rows while Redis is
    away (a window may then count in both, for its length at most: never more hits)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url, self.prefix = url, prefix
        self.local = threading.local()
        self.fallback = DatabaseCounters()

    def client(self):
        """This thread's client: connections shared between gunicorn's threads broke under load."""
        if not hasattr(self.local, "client"):
            import redis  # lazy: only a site with Redis loads its client

            self.local.client = redis.Redis.from_url(self.url)  # its pool reconnects after a fork
        return self.local.client

    def add(self, claims: dict[str, tuple[int, int]], now: float) -> dict[str, int]:
        pipe = self.client().pipeline(transaction=False)
        for key, (size, ends) in claims.items():
            pipe.incrby(self.prefix + key, size)
            pipe.expireat(self.prefix + key, ends + 1)
        try:
            replies = pipe.execute()
        except REDIS_AWAY as exc:
            _warn_away(exc)
            return self.fallback.add(claims, now)
        return dict(zip(claims, replies[0::2], strict=True))

    def read(self, names: list[str]) -> dict[str, int]:
        try:
            values = self.client().mget([self.prefix + name for name in names])
        except REDIS_AWAY as exc:
            _warn_away(exc)
            return self.fallback.read(names)
        return {name: int(value) for name, value in zip(names, values, strict=True) if value}

    def take_back(self, name: str) -> None:
        try:
            self.client().decr(self.prefix + name)
        except REDIS_AWAY as exc:
            _warn_away(exc)
            self.fallback.take_back(name)


def _warn_away(exc: Exception) -> None:
    logger.warning("Redis unavailable (%s): rate limits count in the database meanwhile", exc)
