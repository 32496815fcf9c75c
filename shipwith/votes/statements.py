"""The SQL of one ship/skip vote, written out by hand, once per kind of database.

Through the ORM, building the queries cost more than running them (about 0.3 ms each on a
small machine), so the hot path is plain SQL. Values go through the backend's own adapters so
rows look exactly as the ORM writes them.

- PostgreSQL: one statement (`vote_apply`), data-modifying CTEs that charge the voter, write
  the vote row, move the tally by the difference and touch the tool's stamp, all or nothing,
  in one round trip and no transaction around it.
- SQLite, and PostgreSQL when that statement met a concurrent vote of the same voter: the same
  steps as statements of their own (`voter_charge` … `tally_add`) in one transaction.
"""

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.core.freshness import TOOL_PREFIX, stamp_now, stamps_raise_sql
from shipwith.votes.models import ToolTally, Vote, Voter

TOOL = Tool._meta.db_table

VOTER = Voter._meta.db_table
VOTE = Vote._meta.db_table
TALLY = ToolTally._meta.db_table


# Why one statement is exact: its reads see the database as it was when it began, so it
# first locks the voter's row (`held`, which waits for any other vote of this voter and then
# sees the row as that vote left it) and compares that version with the one it began with
# (`seen`). Every vote of a voter changes the voter's row (the daily count) in the same
# transaction as its vote row, so equal versions mean no vote of this voter committed since
# the statement began: the previous vote it read is the current one, and the lock keeps it so
# until the statement ends. Unequal ("not calm"), the statement changes nothing and says so,
# and the caller runs the steps one by one instead. The tally and the stamp are upserts that
# add to whatever row is there when they run, so other voters' votes are never lost.
def _apply(tool: str) -> str:
    """The statement, for the tool that the condition `tool` on catalog_tool picks."""
    return f"""
WITH tool AS (
    SELECT id FROM {TOOL} WHERE {tool}
), seen AS (
    SELECT xmin AS version FROM {VOTER} WHERE id = %(voter)s
), held AS (
    SELECT xmin AS version FROM {VOTER} WHERE id = %(voter)s FOR UPDATE
), calm AS (
    SELECT held.version = seen.version AS calm FROM held JOIN seen ON true
), charge AS (
    UPDATE {VOTER}
    SET day_count = CASE WHEN day = %(day)s THEN day_count + 1 ELSE 1 END, day = %(day)s
    WHERE id = %(voter)s AND (SELECT calm FROM calm) AND EXISTS (SELECT FROM tool)
        AND (day IS NULL OR day <> %(day)s OR day_count < %(cap)s)
    RETURNING excluded
), before AS (
    SELECT charge.excluded AS uncounted, (
        SELECT value FROM {VOTE} WHERE voter_id = %(voter)s AND tool_id = (SELECT id FROM tool)
    ) AS previous
    FROM charge
), put AS (
    INSERT INTO {VOTE} (voter_id, tool_id, value, created_at, updated_at)
    SELECT %(voter)s, tool.id, CAST(%(value)s AS varchar), %(now)s, %(now)s FROM before, tool
    WHERE CAST(%(value)s AS varchar) IS NOT NULL
        AND previous IS DISTINCT FROM CAST(%(value)s AS varchar)
    ON CONFLICT (voter_id, tool_id)
    DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
    RETURNING 1
), gone AS (
    DELETE FROM {VOTE}
    WHERE voter_id = %(voter)s AND tool_id = (SELECT id FROM tool)
        AND CAST(%(value)s AS varchar) IS NULL AND EXISTS (SELECT FROM before)
    RETURNING 1
), moved AS (
    SELECT %(ship)s - CAST(previous = 'ship' AS integer) AS ships,
        %(skip)s - CAST(previous = 'skip' AS integer) AS skips
    FROM (SELECT uncounted, COALESCE(previous, '') AS previous FROM before) AS b
    WHERE NOT uncounted AND (EXISTS (SELECT FROM put) OR EXISTS (SELECT FROM gone))
), tally AS (
    -- The row checks its columns are >= 0 before it looks for a conflict: a first row takes
    -- the additions, an existing one the deltas (a vote taken back is a -1).
    INSERT INTO {TALLY} (tool_id, ships, skips)
    SELECT tool.id, GREATEST(ships, 0), GREATEST(skips, 0) FROM moved, tool
    ON CONFLICT (tool_id) DO UPDATE SET
        ships = {TALLY}.ships + (SELECT ships FROM moved),
        skips = {TALLY}.skips + (SELECT skips FROM moved)
    RETURNING tool_id, ships, skips
), stamp AS (
    {stamps_raise_sql(f"SELECT '{TOOL_PREFIX}' || tool_id, %(stamp)s FROM tally")}
)
SELECT
    (SELECT id FROM tool),
    EXISTS (SELECT FROM held),
    COALESCE((SELECT calm FROM calm), false),
    (SELECT uncounted FROM before),
    (SELECT previous FROM before),
    (SELECT ships FROM tally),
    (SELECT skips FROM tally),
    (SELECT ships FROM {TALLY} WHERE tool_id = (SELECT id FROM tool)),
    (SELECT skips FROM {TALLY} WHERE tool_id = (SELECT id FROM tool))
"""


APPLY_BY_ID = _apply("id = %(tool)s")
APPLY_BY_SLUG = _apply("slug = %(tool)s")


@dataclass(frozen=True)
class Applied:
    """What `vote_apply` found and did."""

    tool_id: int | None  # None: no such tool; nothing was written
    voter_found: bool
    calm: bool  # False: a vote of the same voter committed meanwhile; nothing was written
    excluded: bool | None  # None: not charged (no tool or voter, over the daily cap, not calm)
    previous: str | None
    tally: tuple[int, int]  # the tool's (ships, skips) once this vote is in


def vote_apply(voter_id: int, tool: int | str, value: str | None, today: date, cap: int) -> Applied:
    """Charge, write, count and touch in one statement (PostgreSQL); `tool` is an id or a slug."""
    with connection.cursor() as cursor:
        cursor.execute(
            APPLY_BY_SLUG if isinstance(tool, str) else APPLY_BY_ID,
            {
                "voter": voter_id,
                "tool": tool,
                "value": value,
                "ship": int(value == "ship"),
                "skip": int(value == "skip"),
                "day": connection.ops.adapt_datefield_value(today),
                "cap": cap,
                "now": connection.ops.adapt_datetimefield_value(timezone.now()),
                "stamp": stamp_now(),
            },
        )
        row = cursor.fetchone()
    tool_id, found, calm, excluded, previous, ships, skips, old_ships, old_skips = row
    if ships is None:  # the tally did not move: as it was when the statement began
        ships, skips = old_ships or 0, old_skips or 0
    return Applied(tool_id, found, calm, excluded, previous, (ships, skips))


def tool_id(slug: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {TOOL} WHERE slug = %s", [slug])
        row = cursor.fetchone()
    return None if row is None else row[0]


def voter_charge(voter_id: int, today: date, cap: int) -> bool | None:
    """Count one write on the voter's day; return `excluded`, or None when over the cap.

    One statement: the row lock it takes serialises a voter's concurrent votes on PostgreSQL.
    """
    day = connection.ops.adapt_datefield_value(today)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {VOTER} SET day_count = CASE WHEN day = %s THEN day_count + 1 ELSE 1 END, "
            f"day = %s WHERE id = %s AND (day IS NULL OR day <> %s OR day_count < %s) "
            f"RETURNING excluded",
            [day, day, voter_id, day, cap],
        )
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


def voter_charge_reading(
    voter_id: int, tool: int | str, today: date, cap: int
) -> tuple[bool, int | None, str | None] | None:
    """`voter_charge`, also reading the tool's id (by id or slug) and the voter's vote on it:
    (excluded, tool id or None when no such tool, previous value); None when over the cap.

    SQLite only, in the voter's write turn: its RETURNING reads what this transaction sees.
    On PostgreSQL a subquery there reads the statement's snapshot, taken before the row lock
    waited for another vote of the voter, so it could miss that vote.
    """
    day = connection.ops.adapt_datefield_value(today)
    tool_sql = "%s" if isinstance(tool, int) else f"(SELECT id FROM {TOOL} WHERE slug = %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {VOTER} SET day_count = CASE WHEN day = %s THEN day_count + 1 ELSE 1 END, "
            f"day = %s WHERE id = %s AND (day IS NULL OR day <> %s OR day_count < %s) "
            f"RETURNING excluded, {tool_sql}, "
            f"(SELECT value FROM {VOTE} WHERE voter_id = %s AND tool_id = {tool_sql})",
            [day, day, voter_id, day, cap, tool, voter_id, tool],
        )
        row = cursor.fetchone()
    return None if row is None else (bool(row[0]), row[1], row[2])


def vote_previous(voter_id: int, tool_id: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT value FROM {VOTE} WHERE voter_id = %s AND tool_id = %s", [voter_id, tool_id]
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def vote_write(voter_id: int, tool_id: int, previous: str | None, value: str | None) -> None:
    """Insert, change or delete the voter's row, given what it held before."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        if value is None:
            cursor.execute(
                f"DELETE FROM {VOTE} WHERE voter_id = %s AND tool_id = %s", [voter_id, tool_id]
            )
        elif previous is None:
            cursor.execute(
                f"INSERT INTO {VOTE} (voter_id, tool_id, value, created_at, updated_at) "
                f"VALUES (%s, %s, %s, %s, %s)",
                [voter_id, tool_id, value, now, now],
            )
        else:
            cursor.execute(
                f"UPDATE {VOTE} SET value = %s, updated_at = %s "
                f"WHERE voter_id = %s AND tool_id = %s",
                [value, now, voter_id, tool_id],
            )


def tally_add(tool_id: int, ships: int, skips: int) -> tuple[int, int] | None:
    """Add to the tool's tally; return its new (ships, skips), or None when it has no row yet."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TALLY} SET ships = ships + %s, skips = skips + %s WHERE tool_id = %s "
            f"RETURNING ships, skips",
            [ships, skips, tool_id],
        )
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])
