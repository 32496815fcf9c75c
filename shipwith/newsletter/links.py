"""Signed links in newsletter emails and absolute URLs built from SHIPWITH_BASE_URL."""

import datetime as dt
import functools
from typing import NamedTuple

from django.conf import settings
from django.core import signing
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

CONFIRM_SALT = "shipwith.newsletter.confirm"
UNSUBSCRIBE_SALT = "shipwith.newsletter.unsubscribe"


def absolute(path: str) -> str:
    return settings.SHIPWITH_BASE_URL + path


class ConfirmRequest(NamedTuple):
    email: str
    category_ids: list[int]
    issued_at: dt.datetime  # a link is spent once the address changed state after this


def confirm_token(*, email: str, category_ids: list[int]) -> str:
    """Sign a subscription request; nothing is stored until the link comes back."""
    issued = int(timezone.now().timestamp() * 1_000_000)
    data = {"e": email, "c": sorted(category_ids), "t": issued}
    return signing.dumps(data, salt=CONFIRM_SALT, compress=True)


def confirm_token_read(token: str) -> ConfirmRequest | None:
    """Return the request a valid, unexpired token carries, else None."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=settings.NEWSLETTER_CONFIRM_MAX_AGE)
        # Links mailed before "t" existed: the signature's own timestamp (whole seconds).
        issued = (
            int(data["t"]) / 1_000_000
            if "t" in data
            else signing.b62_decode(token.rsplit(":", 2)[1])
        )
        issued_at = dt.datetime.fromtimestamp(issued, tz=dt.UTC)
        return ConfirmRequest(str(data["e"]), [int(pk) for pk in data["c"]], issued_at)
    except (signing.BadSignature, KeyError, TypeError, ValueError, IndexError, OverflowError):
        return None


def unsubscribe_token(subscriber_id: int) -> str:
    # No timestamp: an unsubscribe link in a year-old email must still work.
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(subscriber_id))


def unsubscribe_token_read(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def confirm_url(token: str) -> str:
    return absolute(reverse("newsletter:confirm", args=[token]))


def unsubscribe_url(subscriber_id: int) -> str:
    return _unsubscribe_pattern(settings.SHIPWITH_BASE_URL).replace(
        "TOKEN", unsubscribe_token(subscriber_id)
    )


@functools.lru_cache(maxsize=8)
def _unsubscribe_pattern(base_url: str) -> str:
    # Reversed once per base URL: a send builds one of these per reader.
    return base_url + reverse("newsletter:unsubscribe", args=["TOKEN"])


def comparison_path(comparison) -> str:
    """The comparison page's path, even before the site's compare URL exists."""
    try:
        return comparison.get_absolute_url()
    except NoReverseMatch:
        return f"/compare/{comparison.slug}/"


def tool_path(tool) -> str:
    try:
        return tool.get_absolute_url()
    except NoReverseMatch:
        return f"/tools/{tool.slug}/"
