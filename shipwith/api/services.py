"""Writes of the API app: tokens (create, revoke, note use) and the editor actions they allow."""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.utils import timezone

from shipwith.api.models import ApiToken, Scope

TOKEN_PREFIX = "sw_"
# A token's last use is written at most this often: a busy script must not cost a write a call.
LAST_USED_EVERY = timedelta(minutes=1)


def token_digest(raw: str) -> str:
    """The stored form of a token: tokens are 256 random bits, so one SHA-256 suffices."""
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(
    *,
    name: str,
    scopes: Iterable[str],
    created_by_id: int | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; return it with the secret, which is shown once and never stored."""
    scopes = sorted(set(scopes))
    if unknown := set(scopes) - set(Scope.values):
        raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name,
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(raw),
        scopes=scopes,
        created_by_id=created_by_id,
        expires_at=expires_at,
    )
    return token, raw


def api_token_revoke(*, token_id: int) -> None:
    """Revoke a token at once; the row stays so its use can still be traced."""
    ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_token_used(*, token: ApiToken) -> None:
    """Note that a token was used (at most once a minute)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
