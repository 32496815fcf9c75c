"""The votes' own rates; the limiter itself is shared (shipwith.core.limits)."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shipwith.core.limits import (
    client_ip,
    limit_exceeded,
    limits_waits,
    rate_parse,
    rate_setting,
    rolling_limit_exceeded,
)

__all__ = [
    "client_ip",
    "limit_exceeded",
    "limits_waits",
    "ip_rate",
    "new_voter_rate",
    "rolling_limit_exceeded",
    "voter_rate",
]


def voter_rate() -> tuple[int, int]:
    return rate_setting("SHIPWITH_VOTES_RATE_VOTER", "30/m")


def ip_rate() -> tuple[int, int]:
    return rate_setting("SHIPWITH_VOTES_RATE_IP", "300/m")


def new_voter_rate() -> tuple[int, int]:
    """Voter identities (cookies) one address may mint: a plain number is per day, counted over
    any 24 hours (a rolling limit), not per calendar day."""
    value = str(getattr(settings, "SHIPWITH_VOTES_NEW_VOTERS_PER_IP", "10/d")).strip()
    try:
        return rate_parse(f"{value}/d" if value.isdigit() else value)
    except ValueError as error:
        raise ImproperlyConfigured(f"SHIPWITH_VOTES_NEW_VOTERS_PER_IP: {error}") from None
