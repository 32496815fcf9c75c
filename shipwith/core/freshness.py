"""When did what a page shows last change? Writers touch, pages read (cache keys, ETags).

Every service that changes what a tool's pages show (a review, a vote, a catalog edit) calls
`tools_touch`; cached pages key on `tools_version` so a touch invalidates them at once, on every
app server sharing the cache.
"""

import time

from django.core.cache import cache

SITE_KEY = "freshness:site"


def _key(tool_id: int) -> str:
    return f"freshness:tool:{tool_id}"


def tools_touch(*tool_ids: int) -> None:
    """Mark the pages of these tools (and site-wide lists) as changed now."""
    now = time.time_ns()
    cache.set_many({_key(tool_id): now for tool_id in tool_ids} | {SITE_KEY: now}, timeout=None)


def site_touch() -> None:
    """Mark every page as changed (a persona edit, a methodology change)."""
    cache.set(SITE_KEY, time.time_ns(), timeout=None)


def tools_version(*tool_ids: int) -> str:
    """A token that changes whenever any of these tools, or the site, is touched."""
    keys = [_key(tool_id) for tool_id in tool_ids] + [SITE_KEY]
    stamps = cache.get_many(keys)
    return "-".join(str(stamps.get(key, 0)) for key in keys)


def site_version() -> str:
    return str(cache.get(SITE_KEY, 0))
