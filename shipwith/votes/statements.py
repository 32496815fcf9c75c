"""The SQL of one ship/skip vote, written out by hand.

Every vote runs these statements in one transaction; through the ORM, building the queries
cost more than running them (about 0.3 ms each on a small machine), so the hot path is plain
SQL that both SQLite (3.35+) and PostgreSQL accept. Values go through the backend's own
adapters so rows look exactly as the ORM writes them.
"""

from datetime import date

from django.db import connection
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.votes.models import ToolTally, Vote, Voter

TOOL = Tool._meta.db_table

VOTER = Voter._meta.db_table
VOTE = Vote._meta.db_table
TALLY = ToolTally._meta.db_table


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
