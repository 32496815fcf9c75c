"""Who is voting: an account, or an anonymous reader known by a signed cookie."""

import time

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from shipwith.votes.models import Voter

COOKIE = "shipwith_voter"
SALT = "shipwith.votes.voter"
MAX_AGE = 2 * 365 * 24 * 3600


class ForgedCookie(Exception):
    """The voter cookie is present but its signature does not hold."""


def request_voter_id(request: HttpRequest) -> int | None:
    """Return the voter id of this request, None if it has not voted yet."""
    if (new := getattr(request, "_votes_new_voter_id", None)) is not None:
        return new  # created during this request; its cookie is not back from the browser yet
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Voter.objects.filter(user=user).values_list("pk", flat=True).first()
    if COOKIE not in request.COOKIES:
        return None
    try:
        value = _cookie_unsign(request)
    except signing.BadSignature as error:
        raise ForgedCookie from error
    try:
        return int(value)
    except ValueError as error:
        raise ForgedCookie from error


_checked: dict[tuple, tuple[str, int]] = {}  # (cookie, keys) → (value, signed at)
CHECKED_MOST = 10_000


def _cookie_unsign(request: HttpRequest) -> str:
    """The voter cookie's value; BadSignature when forged or expired.

    Each cookie's signature is checked once per process, not on every vote (an HMAC and a
    signer built each time): a cookie that held once holds again under the same keys, and
    only cookies that held are kept. Its age is checked every time.
    """
    cookie = request.COOKIES[COOKIE]
    key = (cookie, settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    if (checked := _checked.get(key)) is None:
        value = request.get_signed_cookie(COOKIE, salt=SALT, max_age=MAX_AGE)
        checked = (value, signing.b62_decode(cookie.rsplit(":", 2)[-2]))
        if len(_checked) >= CHECKED_MOST:
            _checked.clear()
        _checked[key] = checked
    elif time.time() - checked[1] > MAX_AGE:
        raise signing.SignatureExpired("the voter cookie is too old")
    return checked[0]


def request_voter_id_or_none(request: HttpRequest) -> int | None:
    """The voter id for display: a forged cookie is treated as no voter."""
    try:
        return request_voter_id(request)
    except ForgedCookie:
        return None


def voter_cookie_set(response: HttpResponse, request: HttpRequest, voter: Voter) -> None:
    if voter.user_id:
        return
    response.set_signed_cookie(
        COOKIE,
        str(voter.pk),
        salt=SALT,
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


FLAG = "shipwith_voted"


def voted_flag_set(response: HttpResponse, request: HttpRequest) -> None:
    """A readable hint that this browser has voted, so votes.js fetches the reader's votes.

    The voter cookie itself stays HttpOnly; this one says nothing but "1".
    """
    if request.COOKIES.get(FLAG) != "1":
        response.set_cookie(FLAG, "1", max_age=MAX_AGE, samesite="Lax", secure=request.is_secure())
