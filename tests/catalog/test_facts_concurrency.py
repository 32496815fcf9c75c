"""Writers recording the same reading at the same moment: one row per fact, history once.

Each writer is a process of its own (tests/catalog/facts_writer.py) on the test's database:
PostgreSQL's test database, or a SQLite file copied from the test's in-memory one.
"""

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest
from django.db import connection

from shipwith.catalog.models import Fact, FactChange
from tests.catalog.facts_helpers import make_tool
from tests.catalog.facts_writer import VALUES

WRITERS = 3
STARTUP = 5.0  # seconds for every writer to load Django before they start together


def database_url(tmp_path) -> str:
    if connection.vendor == "sqlite":
        path = tmp_path / "facts.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(path) as copy:
            connection.connection.backup(copy)
            # In WAL already, as `up`'s migrate leaves it: three processes switching a file's
            # journal mode at once are refused ("database is locked"), whatever the timeout.
            copy.execute("PRAGMA journal_mode=WAL")
        return f"sqlite:///{path}"
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def counts(tmp_path) -> tuple[int, int]:
    if connection.vendor == "sqlite":
        with sqlite3.connect(tmp_path / "facts.sqlite3") as db:
            return tuple(
                db.execute(f"SELECT count(*) FROM {model._meta.db_table}").fetchone()[0]
                for model in (Fact, FactChange)
            )
    return Fact.objects.count(), FactChange.objects.count()


@pytest.mark.django_db(transaction=True)
def test_writers_recording_one_reading_at_once_keep_one_row_and_one_history(tmp_path):
    tool = make_tool()
    env = os.environ | {
        "DATABASE_URL": database_url(tmp_path),
        "SHIPWITH_HOME": str(tmp_path),
        "PYTHONPATH": os.getcwd(),
        "DJANGO_SETTINGS_MODULE": "shipwith.settings",
    }
    start_at = time.time() + STARTUP
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.catalog.facts_writer", str(tool.pk), str(start_at)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WRITERS)
    ]
    results = [writer.communicate(timeout=120) for writer in writers]
    assert [writer.returncode for writer in writers] == [0] * WRITERS, results

    reports = [json.loads(out) for out, _ in results]
    # They ran at once: every writer started before the first one was done.
    assert max(r["started"] for r in reports) < min(r["done"] for r in reports), reports
    changed = [key for report in reports for key in report["changed"]]
    assert sorted(changed) == sorted(VALUES)  # each fact changed once, by one of the writers
    assert counts(tmp_path) == (len(VALUES), len(VALUES))
