"""Leases judged by the database's clock, the one clock every host shares.

A worker takes rows (panel seats, newsletter deliveries, ingest sources) with one conditional
UPDATE, so the database decides who wins, and holds them for a while; a worker that dies
lets its lease run out. Whether a lease is over must not depend on which host's clock asks:
every time a lease is written or compared with is the database's `now`.

Two shapes of lease:
- "until": the row keeps when its lease ends (a seat's `claimed_until`): `lease_end(seconds)`
  to take or renew it, `lease_free(field)` / `lease_held(field)` to test it;
- "since": the row keeps when its lease was last taken or renewed (a delivery's `touched_at`):
  `db_now()` to take or renew it, `lease_lapsed(field, seconds)` to test it.
"""

import datetime as dt

from django.db.models import Expression, Q
from django.db.models.functions import Now

Duration = float | dt.timedelta  # seconds, or a timedelta


def _delta(duration: Duration) -> dt.timedelta:
    return duration if isinstance(duration, dt.timedelta) else dt.timedelta(seconds=duration)


def db_now() -> Expression:
    """The database's current time, to write into a row or compare with."""
    return Now()


def lease_end(duration: Duration) -> Expression:
    """When a lease taken (or renewed) now ends."""
    return Now() + _delta(duration)


def lease_cutoff(duration: Duration) -> Expression:
    """A "since" lease last renewed before this has run out."""
    return Now() - _delta(duration)


def lease_free(field: str) -> Q:
    """Rows whose "until" lease in `field` was never taken or has ended."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lte": Now()})


def lease_held(field: str) -> Q:
    """Rows whose "until" lease in `field` has not ended yet."""
    return Q(**{f"{field}__gt": Now()})


def lease_lapsed(field: str, duration: Duration) -> Q:
    """Rows whose "since" lease in `field` was never taken or not renewed for `duration`."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": lease_cutoff(duration)})
