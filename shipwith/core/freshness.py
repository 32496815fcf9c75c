"""When did what a page shows last change? Writers touch, pages read (cache keys, ETags).

Three kinds of stamp, rows of one table (`core.Stamp`) so every app server, the task worker
and the CLI see the same ones and none is ever evicted:

- one per tool: whatever a tool's own pages show (its card, takes, figures, comparisons);
- one for the lists: which tools a list shows and in what order (home, categories, search,
  feeds, sitemap); a list page also keys on the stamps of the tools it shows;
- one for the whole site (`site_touch`): every page.

So a vote on tool A re-renders A's pages and the lists that show A; B's pages stay cached.
Every service that changes what pages show calls `tools_touch`; one that only moves the
figures shown beside a tool (a vote) passes `lists=False`.

Touch as the last write of the transaction that changes the data (the stamp then becomes
visible with the data), or once it is committed (`transaction.on_commit`). A page reads its
stamps before its data, so a touch it missed is one it re-renders for next time.
"""

import time

from django.db import connection

from shipwith.core.models import Stamp

SITE_KEY = "site"
LISTS_KEY = "lists"
TOOL_PREFIX = "tool:"


def _key(tool_id: int) -> str:
    return f"{TOOL_PREFIX}{tool_id}"


def stamps_raise_sql(rows: str) -> str:
    """The statement raising the stamps `rows` gives (`VALUES …` or a SELECT of name, value).

    A stamp only grows, whatever a host's clock says. For a writer that touches inside a
    statement of its own (a vote's data-modifying CTE); others call `tools_touch`.
    """
    table = connection.ops.quote_name(Stamp._meta.db_table)
    return (
        f"INSERT INTO {table} (name, value) {rows} ON CONFLICT (name) DO UPDATE SET "
        f"value = CASE WHEN excluded.value > {table}.value THEN excluded.value "
        f"ELSE {table}.value + 1 END"
    )


def stamp_now() -> int:
    """The value a touch raises stamps to: nanoseconds since the epoch."""
    return time.time_ns()


def _stamp(keys: list[str]) -> None:
    """Raise each stamp to now (one statement)."""
    names = sorted(set(keys))  # one lock order for every writer: no deadlock between two touches
    rows = ", ".join(["(%s, %s)"] * len(names))
    now = stamp_now()
    with connection.cursor() as cursor:
        cursor.execute(
            stamps_raise_sql(f"VALUES {rows}"), [part for name in names for part in (name, now)]
        )


def tools_touch(*tool_ids: int, lists: bool = True) -> None:
    """Mark the pages of these tools as changed now, and (unless lists=False) every list."""
    keys = [_key(tool_id) for tool_id in tool_ids] + ([LISTS_KEY] if lists else [])
    if keys:
        _stamp(keys)


def site_touch() -> None:
    """Mark every page as changed (a persona edit, a methodology change)."""
    _stamp([SITE_KEY])


def tools_version(*tool_ids: int, lists: bool = False) -> str:
    """A token that changes whenever any of these tools (or the lists, or the site) is touched."""
    keys = [_key(tool_id) for tool_id in tool_ids] + ([LISTS_KEY] if lists else []) + [SITE_KEY]
    table = connection.ops.quote_name(Stamp._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT name, value FROM {table} WHERE name IN ({', '.join(['%s'] * len(keys))})",
            keys,
        )
        stamps = dict(cursor.fetchall())
    return "-".join(str(stamps.get(key, 0)) for key in keys)
