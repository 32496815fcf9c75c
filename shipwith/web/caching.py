"""Rendered pages cached under a freshness token, served with ETag/Last-Modified and 304s.

A page records which tools it shows (`page_depends`); its cache entry keeps the
`tools_version` token read *before* the page's data, so a review, vote or catalog change that
touches one of those tools (or the site) makes the next request render afresh. A tool's own
pages name their tools up front; a list (home, category, search, feeds) depends on the lists
stamp and on the tools it showed last time, and says what it shows now (`page_shows`): when
that differs, its entry also depends on the new tools (or, when one of them was touched while
it rendered, it renders once more with the new set), so its entry never misses a tool.
"""

import functools
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from shipwith.core.freshness import tools_version

# Rendered into forms instead of a reader's CSRF token, so one cached copy serves everyone;
# swapped for the reader's own token when served.
CSRF_MARKER = "shipwith-csrf-placeholder"
_MARKER = CSRF_MARKER.encode()
PROXY_HEADER = "X-Shipwith-Csrf"
ENTRY_TIMEOUT = 24 * 3600
QUERY_TIMEOUT = 300
# Pages that say how long ago a fact was read ("read 3 h ago") are rendered afresh this often.
AGES_KEPT = 600
LOCAL_ENTRIES = 256


@dataclass(frozen=True)
class Entry:
    token: str
    tool_ids: tuple[int, ...]
    lists: bool
    shown: tuple[int, ...]  # the tools a list showed: what its next rendering depends on
    body: bytes
    content_type: str
    etag: str
    rendered_at: float
    personal: bool  # holds a CSRF form: each reader's token goes in when served
    max_age: int = 0
    expires_at: float | None = None  # a page showing ages ("read 3 h ago") is kept this long


# Per-process copies of recent entries: a hot page costs one freshness read, not a body read.
_local: OrderedDict[str, Entry] = OrderedDict()
_versions: dict[tuple[tuple[int, ...], bool], tuple[float, str]] = {}


def page_depends(request: HttpRequest, *tool_ids: int, lists: bool = False) -> None:
    """Declare the tools this page shows; call before reading the page's data."""
    request._page_ids = tuple(sorted(set(tool_ids)))
    request._page_lists = lists
    request._page_token = tools_version(*request._page_ids, lists=lists)
    _versions[(request._page_ids, lists)] = (time.monotonic(), request._page_token)


def page_shows(request: HttpRequest, *tool_ids: int) -> None:
    """Say which tools a list page shows (their figures); call after reading its data."""
    request._page_shown = frozenset(tool_ids)


def page_expires(request: HttpRequest, seconds: int) -> None:
    """Keep this page at most `seconds`: what it shows ages even when nothing is touched."""
    request._page_ttl = min(seconds, getattr(request, "_page_ttl", None) or seconds)


def render_page(request: HttpRequest, template: str, context: dict, status: int = 200):
    """Render a template whose forms carry the shared CSRF placeholder."""
    return render(request, template, {**context, "csrf_token": CSRF_MARKER}, status=status)


@functools.cache
def build_token() -> str:
    """Fingerprint the installed code and templates: an upgrade never serves old pages."""
    package = Path(__file__).resolve().parents[1]
    stamps = [
        f"{path}:{path.stat().st_mtime_ns}"
        for path in sorted(package.rglob("*"))
        if path.suffix in (".py", ".html", ".svg", ".txt") and "__pycache__" not in path.parts
    ]
    return hashlib.md5("\n".join(stamps).encode()).hexdigest()[:12]


def _key(request: HttpRequest) -> str:
    path = hashlib.md5(request.get_full_path().encode()).hexdigest()
    return f"page:{build_token()}:{path}"


def _remember(key: str, entry: Entry) -> None:
    _local[key] = entry
    _local.move_to_end(key)
    while len(_local) > LOCAL_ENTRIES:
        _local.popitem(last=False)


def _version(tool_ids: tuple[int, ...], lists: bool) -> str:
    """tools_version, remembered in this process for SHIPWITH_FRESHNESS_MEMO_SECONDS.

    A hot page then costs no cache read at all; a touch shows within that time (the nginx
    proxy cache in front already allows a few seconds).
    """
    memo = settings.SHIPWITH_FRESHNESS_MEMO_SECONDS
    if memo <= 0:
        return tools_version(*tool_ids, lists=lists)
    now = time.monotonic()
    remembered = _versions.get((tool_ids, lists))
    if remembered is not None and now - remembered[0] < memo:
        return remembered[1]
    token = tools_version(*tool_ids, lists=lists)
    if len(_versions) > 4 * LOCAL_ENTRIES:
        _versions.clear()
    _versions[(tool_ids, lists)] = (now, token)
    return token


def _is_fresh(entry: Entry | None) -> bool:
    if entry is None or (entry.expires_at is not None and time.time() >= entry.expires_at):
        return False
    return entry.token == _version(entry.tool_ids, entry.lists)


def _fresh(key: str) -> tuple[Entry | None, tuple[int, ...]]:
    """The fresh entry for key, if any, and the tools the latest entry showed."""
    local = _local.get(key)
    if _is_fresh(local):
        return local, local.shown
    shared = cache.get(key)
    if _is_fresh(shared):
        _remember(key, shared)
        return shared, shared.shown
    latest = shared or local
    return None, latest.shown if latest is not None else ()


def page_cached(request: HttpRequest) -> HttpResponse | None:
    """Serve a GET from this process's fresh copy of its page, or None when it holds none.

    For a caller ahead of URL resolution (the API's middleware): a hot page then costs its
    freshness check and its headers, none of the view's machinery. When this is None the view's
    own `freshness_cached` reads the shared cache or renders, as for any request. A page with a
    form is left to the view: the reader's CSRF token is set by middleware after such a caller.
    """
    entry = _local.get(_key(request))
    if entry is None or entry.personal or not _is_fresh(entry):
        return None
    return _serve(request, entry)


def _serve(request: HttpRequest, entry: Entry) -> HttpResponse:
    body = entry.body
    # Behind the shipped nginx config the proxy puts each reader's token in (sub_filter), so
    # the page stays shareable; served directly, we put it in and the page is the reader's own.
    personal = entry.personal and request.headers.get(PROXY_HEADER) != "substitute"
    if personal:
        body = body.replace(_MARKER, get_token(request).encode())
    response = HttpResponse(body, content_type=entry.content_type)
    if not personal:
        # Before Cache-Control: nginx stops reading cache headers at max-age=0 otherwise.
        response["X-Accel-Expires"] = str(settings.SHIPWITH_PROXY_CACHE_SECONDS)
    response["ETag"] = entry.etag
    response["Last-Modified"] = http_date(entry.rendered_at)
    if personal:
        response["Cache-Control"] = "private, no-cache"
    else:
        # Browsers revalidate (a cheap 304) once max-age runs out; nginx keeps a copy briefly.
        response["Cache-Control"] = f"public, max-age={entry.max_age}, must-revalidate"
    return get_conditional_response(
        request, etag=entry.etag, last_modified=int(entry.rendered_at), response=response
    )


def _entry(request: HttpRequest, response: HttpResponse, max_age: int) -> Entry:
    body = response.content
    personal = _MARKER in body
    digest = hashlib.md5(body).hexdigest()
    rendered_at = time.time()
    ttl = getattr(request, "_page_ttl", None)
    return Entry(
        token=request._page_token,
        tool_ids=request._page_ids,
        lists=request._page_lists,
        shown=tuple(sorted(request._page_shown)),
        body=body,
        content_type=response["Content-Type"],
        etag=f'W/"{digest}"' if personal else f'"{digest}"',
        rendered_at=rendered_at,
        personal=personal,
        max_age=max_age,
        expires_at=rendered_at + ttl if ttl else None,
    )


def _for_one_reader(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A page rendered for one reader's query: their CSRF token in, stored by no cache."""
    if not response.streaming and _MARKER in response.content:
        response.content = response.content.replace(_MARKER, get_token(request).encode())
    response["Cache-Control"] = "private, no-store"
    return response


def freshness_cached(
    view: Callable[..., HttpResponse] | None = None,
    *,
    max_age: int = 0,
    uncached_when: tuple[str, ...] = (),
):
    """Serve GETs from the page cache while the page's tools are unchanged.

    A request whose query names one of `uncached_when` is rendered afresh and never stored.
    """
    if view is None:
        return lambda view: freshness_cached(view, max_age=max_age, uncached_when=uncached_when)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        if any(name in request.GET for name in uncached_when):
            return _for_one_reader(request, view(request, *args, **kwargs))
        key = _key(request)
        entry, shown = _fresh(key)
        if entry is None:
            response, complete = _render(view, request, shown, args, kwargs)
            if not complete or response.status_code != 200 or response.streaming:
                return response
            if response.cookies:
                return response
            entry = _entry(request, response, max_age)
            timeout = QUERY_TIMEOUT if request.GET else ENTRY_TIMEOUT
            if entry.expires_at is not None:
                timeout = min(timeout, max(1, int(entry.expires_at - entry.rendered_at)))
            cache.set(key, entry, timeout)
            _remember(key, entry)
        return _serve(request, entry)

    return wrapper


def _render(view, request, shown, args, kwargs) -> tuple[HttpResponse, bool]:
    """Render a page; complete when its entry depends on every tool it shows."""
    for _ in range(2):
        # A list until the view names its tools: the lists stamp and what it showed last time.
        page_depends(request, *shown, lists=True)
        before = (request._page_ids, request._page_token)
        started = time.time_ns()
        request._page_shown = frozenset()
        request._page_ttl = None
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()  # TemplateResponse (the sitemap views)
        if request._page_shown <= set(request._page_ids) or response.status_code != 200:
            return response, True
        if _depend_on_shown(request, before, started):
            return response, True
        shown = tuple(request._page_shown)
    return response, False


# Stamps are wall-clock nanoseconds written by any host: allow this much disagreement.
CLOCK_SKEW_NS = 2 * 10**9


def _stamps(token: str, tool_ids: tuple[int, ...]) -> dict:
    """The stamps inside a `tools_version(*tool_ids, lists=True)` token, by tool id."""
    parts = [int(part) for part in token.split("-")]
    return dict(zip([*tool_ids, "lists", "site"], parts, strict=True))


def _depend_on_shown(request: HttpRequest, before: tuple, started: int) -> bool:
    """Add the tools a list newly showed to its token without rendering it again, when safe.

    Safe when nothing the page depended on changed while it rendered, and every newly shown
    tool was last touched well before the rendering began: writers touch after commit, so
    the data the page read already holds that change. Otherwise the caller renders again.
    """
    old_ids, old_token = before
    page_depends(request, *old_ids, *request._page_shown, lists=True)
    old = _stamps(old_token, old_ids)
    new = _stamps(request._page_token, request._page_ids)
    horizon = started - CLOCK_SKEW_NS
    unchanged = all(new[key] == stamp for key, stamp in old.items())
    return unchanged and all(new[key] < horizon for key in new.keys() - old.keys())
