"""Turns: a named section that one transaction at a time may be in.

Check-then-write done by two processes at once ("queue this task unless it is queued", "add
the default sources unless there are some") must not both pass the check. Inside a
transaction, `turn_take(name)` waits until no other transaction holds the turn and holds it
until its own ends: PostgreSQL with an advisory lock keyed by the name; SQLite needs none, as
every transaction of ours is IMMEDIATE and so holds the only write lock from its start.
"""

import zlib

from django.db import connection


def turn_take(name: str) -> None:
    """Hold the turn called `name` until the current transaction ends (call inside one)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode())])
