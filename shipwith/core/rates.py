"""What a rate is ("30/m"), and the settings that hold one.

Every rate setting of the project is listed in RATE_SETTINGS: requests read it through
`rate_setting`, and the start-up check (core/checks.py) reads each the same way, so a typo
stops `shipwith up` instead of a reader's request.
"""

import functools

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
Rate = tuple[int, int]  # (hits, seconds)

# Every rate setting (defaults in settings.py), with the unit a plain number stands for in it
# (None: the unit must be written).
RATE_SETTINGS: dict[str, str | None] = {
    "SHIPWITH_ADMIN_LOGIN_RATE": None,
    "NEWSLETTER_SIGNUP_RATE": None,
    "SHIPWITH_VOTES_RATE_VOTER": None,
    "SHIPWITH_VOTES_RATE_IP": None,
    "SHIPWITH_VOTES_NEW_VOTERS_PER_IP": "d",  # voters one address may mint: a count per day
    "SHIPWITH_API_RATE": None,
    "SHIPWITH_API_WRITE_RATE": None,
}


@functools.lru_cache(maxsize=64)  # read from settings on every request; parsed once
def rate_parse(rate: str, bare_unit: str | None = None) -> Rate:
    """Parse "30/m" into (30, 60); the unit is s, m, h or d (or a word starting with one).

    With `bare_unit`, a plain number ("10") is read as that many per `bare_unit`.
    """
    if bare_unit and rate.strip().isdigit():
        rate = f"{rate.strip()}/{bare_unit}"
    count, _, unit = rate.partition("/")
    period = PERIODS.get(unit.strip()[:1].lower())
    # A rate of 0 is no limit but a wall: every hit would be refused.
    if not count.strip().isdigit() or int(count) < 1 or period is None:
        raise ValueError(
            f"not a rate: {rate!r} (expected N/s, N/m, N/h or N/d, N at least 1, e.g. 30/m)"
        )
    return int(count), period


def rate_setting(name: str) -> Rate:
    """The rate in setting `name` (one of RATE_SETTINGS); ImproperlyConfigured names it."""
    try:
        return rate_parse(str(getattr(settings, name)), RATE_SETTINGS[name])
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from None
