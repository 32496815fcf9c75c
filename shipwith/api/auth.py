"""Editor tokens on the write endpoints: `Authorization: Bearer sw_…`, never a cookie."""

from django.http import HttpRequest
from ninja.errors import AuthorizationError, HttpError
from ninja.security import HttpBearer

from shipwith.api.models import ApiToken
from shipwith.api.selectors import api_token_for
from shipwith.api.services import api_token_used
from shipwith.core.limits import limit_exceeded
from shipwith.core.rates import rate_setting


class TokenAuth(HttpBearer):
    """Find the token; ninja answers 401 when there is none (no cookie is ever read)."""

    openapi_description = "An API token an editor created in the admin (API → API tokens)."

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = api_token_for(token.strip()) if token and len(token) < 200 else None
        if found is not None:
            api_token_used(token=found)
        return found


class RateLimited(HttpError):
    def __init__(self, wait: int):
        super().__init__(429, f"Too many requests: retry in {wait} s.")
        self.wait = wait


def require_scope(request: HttpRequest, scope: str) -> ApiToken:
    """The request's token if it holds `scope` (403 otherwise), counted against its write rate."""
    token: ApiToken = request.auth
    if scope not in token.scopes:
        raise AuthorizationError(message=f"This token lacks the scope '{scope}'.")
    rate = rate_setting("SHIPWITH_API_WRITE_RATE")
    if wait := limit_exceeded(f"api:token:{token.pk}", rate):
        raise RateLimited(wait)
    return token
