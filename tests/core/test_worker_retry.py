"""A task that fails because the database was away for a moment runs again later, a few
times; a task that fails on its own is recorded as failed at once."""

import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_tasks import task
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from shipwith.management.commands.worker import DATABASE_RETRIES, Worker

# Committed, as a worker sees them: a retry reconnects when the database was away.
pytestmark = pytest.mark.django_db(transaction=True)
RUNS: list[str] = []


@task()
def database_away_task() -> None:
    RUNS.append("away")
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')


@task()
def broken_task() -> None:
    RUNS.append("broken")
    raise ValueError("a bug of the task's own")


@task()
def quick_task() -> str:
    RUNS.append("quick")
    return "done"


def worker() -> Worker:
    return Worker(
        queue_names=["default"],
        excluded_queue_names=[],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="worker-1",
    )


def claimed(result) -> DBTaskResult:
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim("worker-1")
    return row


def test_the_database_away_puts_the_task_back_with_a_growing_wait():
    result = database_away_task.enqueue()
    waits = []
    for _ in range(DATABASE_RETRIES):
        before = timezone.now()
        worker().run_task(claimed(result))
        row = DBTaskResult.objects.get(pk=result.id)
        assert row.status == TaskResultStatus.READY  # a worker takes it again when it is due
        waits.append((row.run_after - before).total_seconds())
    assert [round(wait) for wait in waits] == [5, 20, 80]

    worker().run_task(claimed(result))  # its last try: recorded as failed, with the reason
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == "django.db.utils.OperationalError"
    assert "refused" in row.traceback


def test_a_task_failing_on_its_own_is_not_run_again():
    result = broken_task.enqueue()
    worker().run_task(claimed(result))
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.FAILED and "a bug of the task's own" in row.traceback
    assert row.run_after > timezone.now() + dt.timedelta(days=365)  # never queued for later


def test_a_task_whose_end_the_database_did_not_take_runs_again_when_it_is_back():
    result = quick_task.enqueue()
    stuck = worker()
    stuck.unsettled = claimed(result)  # it ran, but recording that failed: RUNNING under us
    RUNS.clear()
    stuck.run()  # batch mode: the database is back, the queue is emptied and the worker stops
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL
    assert RUNS == ["quick"] and stuck.unsettled is None
