"""The daily ingest run: queued by `shipwith up`, re-queued by itself."""

import datetime as dt
import os
import sqlite3
import subprocess
import sys

import pytest
from django_tasks_db.models import DBTaskResult

from shipwith.ingest import tasks

pytestmark = pytest.mark.django_db


def queued_daily():
    return DBTaskResult.objects.filter(task_path=tasks.DAILY_PATH, status="READY")


def test_next_run_is_the_coming_early_morning():
    night = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    noon = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    assert tasks.next_daily_run(night) == dt.datetime(2026, 12, 1, 5, tzinfo=dt.UTC)
    assert tasks.next_daily_run(noon) == dt.datetime(2026, 12, 2, 5, tzinfo=dt.UTC)


def test_scheduling_twice_queues_one_run(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = tasks.daily_schedule()
    with django_capture_on_commit_callbacks(execute=True):
        second = tasks.daily_schedule()
    assert first == second
    [queued] = queued_daily()
    assert queued.run_after == tasks.next_daily_run()


def test_the_daily_task_runs_and_queues_tomorrow():
    result = tasks.ingest_daily.call()
    assert "0 pages fetched and stored" in result
    assert queued_daily().count() == 1


def test_up_queues_the_daily_run(tmp_path):
    database = tmp_path / "shipwith.sqlite3"
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{database}",
        "SHIPWITH_HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "shipwith", "up", "--setup-only"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Daily ingest queued for" in done.stdout
    with sqlite3.connect(database) as connection:
        table = DBTaskResult._meta.db_table
        rows = connection.execute(
            f"SELECT run_after FROM {table} WHERE task_path = ? AND status = 'READY'",
            (tasks.DAILY_PATH,),
        ).fetchall()
    assert len(rows) == 1
