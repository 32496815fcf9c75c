"""When did what a page shows last change? Writers touch, pages read (cache keys, ETags).

Three kinds of stamp, all in the shared cache so every app server, the task worker and the CLI
see the same ones:

- one per tool: whatever a tool's own pages show (its card, takes, figures, comparisons);
- one for the lists: which tools a list shows and in what order (home, categories, search,
  feeds, sitemap); a list page also keys on the stamps of the tools it shows;
- one for the whole site (`site_touch`): every page.

So a vote on tool A re-renders A's pages and the lists that show A; B's pages stay cached.
Every service that changes what pages show calls `tools_touch`; one that only moves the
figures shown beside a tool (a vote) passes `lists=False`.
"""

import time

from django.core.cache import cache

SITE_KEY = "freshness:site"
LISTS_KEY = "freshness:lists"


def _key(tool_id: int) -> str:
    return f"freshness:tool:{tool_id}"


def _stamp(keys: list[str]) -> None:
    now = time.time_ns()
    cache.set_many(dict.fromkeys(keys, now), timeout=None)


def tools_touch(*tool_ids: int, lists: bool = True) -> None:
    """Mark the pages of these tools as changed now, and (unless lists=False) every list."""
    # Call it once the write is committed (transaction.on_commit): a page rendered between a
    # touch and the commit would keep the old rows under the new stamp.
    keys = [_key(tool_id) for tool_id in tool_ids] + ([LISTS_KEY] if lists else [])
    if keys:
        _stamp(keys)


def site_touch() -> None:
    """Mark every page as changed (a persona edit, a methodology change)."""
    _stamp([SITE_KEY])


def tools_version(*tool_ids: int, lists: bool = False) -> str:
    """A token that changes whenever any of these tools (or the lists, or the site) is touched."""
    keys = [_key(tool_id) for tool_id in tool_ids] + ([LISTS_KEY] if lists else []) + [SITE_KEY]
    stamps = cache.get_many(keys)
    return "-".join(str(stamps.get(key, 0)) for key in keys)


def site_version() -> str:
    return str(cache.get(SITE_KEY, 0))
