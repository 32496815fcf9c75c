"""The task worker `up` starts: a task queued for a time starts at that time, one queued now
starts within a fraction of a second, it prepares the panel's model without calling it, and
idle it costs next to nothing."""

import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.panel.conftest import good_review
from tests.panel.fault_server import FaultServer, Reply
from tests.up.test_up import up_env

# A task that returns at once: with polling off, a look at the sources ends its chain.
ENQUEUE = """
import datetime as dt
from django.utils import timezone
from shipwith.ingest.tasks import ingest_poll
for delay in {delays}:
    if delay:
        ingest_poll.using(run_after=timezone.now() + dt.timedelta(seconds=delay)).enqueue()
    else:
        ingest_poll.enqueue()
"""
TASKS = (
    "select enqueued_at, run_after, started_at from django_tasks_database_dbtaskresult"
    " where status = 'SUCCESSFUL' order by enqueued_at, run_after"
)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def worker(tmp_path):
    """A migrated database of its own and `shipwith worker` on it, as `up` starts it."""
    server = FaultServer(default=Reply(good_review())).start()
    env = up_env(tmp_path, server) | {"SHIPWITH_INGEST_POLL": "0"}
    shipwith = [sys.executable, "-m", "shipwith"]
    subprocess.run([*shipwith, "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True)
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115 - the worker holds it open
    process = subprocess.Popen(
        [*shipwith, "worker", "--no-startup-delay"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while "Starting worker" not in (tmp_path / "worker.log").read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read()
            time.sleep(0.1)
        yield process, env, server
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
        server.stop()


def test_a_queued_task_starts_at_its_time_and_a_new_one_within_a_fraction_of_a_second(
    tmp_path, worker
):
    process, env, server = worker
    # The panel's model was made ready, and no model was called to do it.
    assert "Panel model: prepared openai:fake" in (tmp_path / "worker.log").read_text()
    assert server.requests == []
    # Idle, a look for work five times a second costs next to nothing.
    before = cpu_seconds(process.pid)
    time.sleep(3)
    assert cpu_seconds(process.pid) - before < 0.3

    delays = [0, 1.3, 2.1, 2.9]  # the first queued now, the others for a time
    script = [sys.executable, "-m", "shipwith", "shell", "-c", ENQUEUE.format(delays=delays)]
    subprocess.run(script, env=env, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    db = sqlite3.connect(tmp_path / "shipwith.sqlite3")
    deadline = time.monotonic() + 30
    while len(rows := db.execute(TASKS).fetchall()) < len(delays):
        assert time.monotonic() < deadline, rows
        time.sleep(0.2)

    (now_queued, *for_a_time) = rows
    enqueued, _, started = map(moment, now_queued)
    assert (started - enqueued).total_seconds() < 0.5  # db_worker's own: up to 1 s and more
    for _, run_after, started in for_a_time:
        late = (moment(started) - moment(run_after)).total_seconds()
        assert 0 <= late < 0.2  # it woke for it, not at its next look
