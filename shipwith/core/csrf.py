"""Cross-site form posts refused by Fetch Metadata, so cached pages need no per-reader token.

The public forms (votes, newsletter sign-up and confirm) sit on pages that nginx and the page
cache share between every reader, so they cannot carry a reader's own CSRF token. Browsers say
where a request comes from instead, and a page on another site cannot make them lie. As in
Go 1.25's CrossOriginProtection and Rails' header check:

1. `Sec-Fetch-Site: same-origin` (or `none`: typed or bookmarked by the reader) is accepted;
   `cross-site` and `same-site` are refused unless `Origin` is a trusted origin.
2. Without `Sec-Fetch-Site` (browsers before 2023), `Origin` must be the site's own origin
   (from SHIPWITH_BASE_URL) or one of SHIPWITH_CSRF_TRUSTED_ORIGINS.
3. With neither header (not a browser, or a very old one), Django's token check decides.

The admin and every other form keep Django's CSRF middleware as it is.
"""

import functools
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import get_callable

logger = logging.getLogger("shipwith.csrf")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_normalise(url: str) -> str:
    """`scheme://host[:port]` as a browser writes Origin (lower case, no default port)."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if not scheme or not host:
        return ""
    return f"{scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS.get(scheme) else "")


@functools.cache
def _origins(base_url: str, trusted: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    extra = frozenset(filter(None, map(origin_normalise, trusted)))
    return frozenset({origin_normalise(base_url)}) | extra, extra


def site_origins() -> tuple[frozenset[str], frozenset[str]]:
    """(the site's own origins, the trusted other origins) from settings."""
    return _origins(settings.SHIPWITH_BASE_URL, tuple(settings.CSRF_TRUSTED_ORIGINS))


def cross_origin_reason(request: HttpRequest) -> str | None:
    """Why an unsafe request is refused; None when accepted; "" when only a token can tell."""
    # META, not request.headers: building that dict costs more than this whole check.
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE") or None
    origin = request.META.get("HTTP_ORIGIN") or None
    own, trusted = site_origins()
    if fetch_site is not None:
        if fetch_site in ("same-origin", "none"):
            return None
        if origin and origin_normalise(origin) in trusted:
            return None
        return f"cross-origin request refused (Sec-Fetch-Site: {fetch_site[:40]})"
    if origin is not None:
        if origin_normalise(origin) in own:
            return None
        return f"cross-origin request refused (Origin {origin[:100]!r} is not this site)"
    return ""


@functools.cache
def _token_check() -> CsrfViewMiddleware:
    return CsrfViewMiddleware(lambda request: HttpResponse())


def _refuse(request: HttpRequest, reason: str) -> HttpResponse:
    logger.warning("Forbidden (%s): %s", reason, request.path)
    return get_callable(settings.CSRF_FAILURE_VIEW)(request, reason=reason)


def fetch_metadata_protect(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Protect a public form's view by Fetch Metadata instead of a per-reader token."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            reason = cross_origin_reason(request)
            if reason:
                return _refuse(request, reason)
            if reason == "":  # neither header: Django's token check, as for any other form
                refusal = _token_check().process_view(request, view, args, kwargs)
                if refusal is not None:
                    return refusal
        return view(request, *args, **kwargs)

    wrapper.csrf_exempt = True  # this wrapper does the checking; the middleware stands aside
    return wrapper
