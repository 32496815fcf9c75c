"""A task worker killed outright does not take its task with it: a live worker requeues it."""

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from shipwith.core.models import WorkerBeat
from shipwith.core.workers import tasks_orphaned_requeue, worker_beat
from tests.panel.conftest import good_review
from tests.panel.fault_server import FaultServer, Reply

ROOT = Path(__file__).resolve().parents[2]
CATALOG = """\
categories:
  - {slug: agents, name: Agents}
tools:
  - {name: Tool Zero, slug: tool-zero, category: agents}
"""
ENQUEUE = """
from django.db import transaction
from shipwith.catalog.models import Tool
from shipwith.panel.tasks import panel_run_enqueue
with transaction.atomic():
    panel_run_enqueue(tool_id=Tool.objects.get().pk)
"""
PANEL_TASK = "shipwith.panel.tasks.panel_run_task"


def running_task(worker_ids: list[str], started_ago: float) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        args_kwargs={"args": [1], "kwargs": {}},
        task_path=PANEL_TASK,
        worker_ids=worker_ids,
        backend_name="default",
        run_after=timezone.now(),
        started_at=timezone.now() - dt.timedelta(seconds=started_ago),
    )


@pytest.mark.django_db
def test_a_dead_workers_task_is_queued_again_once(settings):
    settings.SHIPWITH_WORKER_LEASE = 30
    worker_beat(worker_id="alive")
    WorkerBeat.objects.create(worker_id="dead", beat_at=timezone.now() - dt.timedelta(minutes=5))
    orphan = running_task(["dead"], started_ago=300)
    never_beat = running_task(["older-worker", "gone"], started_ago=300)
    busy = running_task(["dead", "alive"], started_ago=300)  # claimed again by a live worker
    just_claimed = running_task(["not-yet-beating"], started_ago=1)

    assert tasks_orphaned_requeue() == 2
    assert tasks_orphaned_requeue() == 0  # a second reaper finds nothing left to take

    status = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert status[orphan.pk] == status[never_beat.pk] == TaskResultStatus.READY
    assert status[busy.pk] == status[just_claimed.pk] == TaskResultStatus.RUNNING
    assert DBTaskResult.objects.ready().filter(pk=orphan.pk).exists()  # a worker will take it
    assert list(WorkerBeat.objects.values_list("pk", flat=True)) == ["alive"]


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchone()[0]


def wait_for(db: Path, sql: str, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not count(db, sql):
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.1)


def test_a_worker_killed_mid_panel_has_its_task_run_again_once(tmp_path):
    # The Builder answers at once; the other seats are still waiting on the model when the
    # worker is killed.
    model = FaultServer(default=Reply(good_review(), delay=30)).start()
    model.script("Builder", Reply(good_review()))
    db = tmp_path / "shipwith.sqlite3"
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{db}",
        "SHIPWITH_HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "SHIPWITH_LLM": "openai:fake",
        "OPENAI_BASE_URL": model.base_url,
        "OPENAI_API_KEY": "test",
        "SHIPWITH_INGEST_POLL": "0",
        "SHIPWITH_PANEL_SEAT_LEASE": "2",
        "SHIPWITH_WORKER_BEAT": "0.3",  # the lease follows: the seat's plus two beats
    }
    shipwith = [sys.executable, "-m", "shipwith"]
    worker = [*shipwith, "worker", "--interval", "0.1", "--no-startup-delay"]
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    for command in (
        ["migrate", "-v0"],
        ["catalog", "import", "catalog.yaml"],
        ["shell", "-c", ENQUEUE],
    ):
        subprocess.run(
            [*shipwith, *command], env=env, cwd=tmp_path, check=True, capture_output=True
        )
    first = subprocess.Popen(
        worker, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    second = None
    try:
        wait_for(db, "select count(*) from panel_review", "the Builder's review")
        deadline = time.monotonic() + 30
        while len(model.requests) < 4:  # the other seats are asking the model
            assert time.monotonic() < deadline, "the other seats never asked"
            time.sleep(0.1)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert (
            count(
                db,
                "select count(*) from django_tasks_database_dbtaskresult where status = 'RUNNING'",
            )
            == 1
        )
        model.default = Reply(good_review())  # the model answers at once from now on
        second = subprocess.Popen(
            worker, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for(db, "select count(*) from panel_panelrun where status = 'complete'", "the panel")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
        model.stop()

    with sqlite3.connect(db) as connection:
        tasks = connection.execute(
            "select status, worker_ids from django_tasks_database_dbtaskresult where task_path = ?",
            (PANEL_TASK,),
        ).fetchall()
        reviews = connection.execute(
            "select persona_id, count(*), max(version) from panel_review group by persona_id"
        ).fetchall()
    # The one panel task ran again once, on the second worker, and succeeded.
    assert len(tasks) == 1 and tasks[0][0] == "SUCCESSFUL"
    assert len(json.loads(tasks[0][1])) == 2
    # One review per seat: the Builder's, stored before the kill, was not asked for again.
    assert len(reviews) == 4 and {(n, v) for _, n, v in reviews} == {(1, 1)}
    assert len(model.seen("Builder")) == 1
    assert {len(model.seen(p)) for p in ("Skeptic", "Futurist", "Operator")} == {2}
