"""Stopping `shipwith up` while its worker runs a panel with the embedded model leaves nothing."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.panel.conftest import good_review
from tests.panel.fault_server import FaultServer, Reply
from tests.up.test_up import count, start_up, up_env, wait_for_site

ENQUEUE = """
from shipwith.catalog.models import Tool
from shipwith.panel.tasks import panel_run_enqueue
panel_run_enqueue(tool_id=Tool.objects.order_by("pk").first().pk)
"""
CLAIMED = "select count(*) from panel_seat where claimed_until is not null"
QUEUED = (
    "select count(*) from django_tasks_database_dbtaskresult"
    " where status = 'READY' and task_path = 'shipwith.panel.tasks.panel_run_task'"
)


def stat(pid: int) -> tuple[int, int, str, int] | None:
    """(parent pid, process group, state, start time) of a live process, None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[1]), int(fields[2]), fields[0], int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """{pid: start time} of every process below `root`, from /proc."""
    procs = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (info := stat(int(entry.name))) is not None:
            procs[int(entry.name)] = info
    below, found = {root}, {}
    while True:
        more = {pid for pid, info in procs.items() if info[0] in below and pid not in found}
        if not more:
            return found
        found |= {pid: procs[pid][3] for pid in more}
        below |= more


def still_running(processes: dict[int, int]) -> list[int]:
    """The pids among `processes` (same start time, so not a reused pid) that still run."""
    return [
        pid
        for pid, started in processes.items()
        if (info := stat(pid)) is not None and info[3] == started and info[2] != "Z"
    ]


@dataclass
class Stopped:
    status: int
    out: str
    seconds: float
    left: list[int]  # processes of `up` still running after it exited


def stop_mid_generation(tmp_path, signum: int) -> Stopped:
    """Start `up --no-review`, queue a panel run for its worker, stop `up` while it generates."""
    db = tmp_path / "shipwith.sqlite3"
    up, url = start_up(tmp_path, None, "--no-review", stderr=subprocess.STDOUT)
    processes = {}
    try:
        wait_for_site(up, url)
        enqueue = [sys.executable, "-m", "shipwith", "shell", "-c", ENQUEUE]
        env = up_env(tmp_path, None)
        subprocess.run(enqueue, env=env, cwd=tmp_path, check=True, capture_output=True)
        deadline = time.monotonic() + 60  # the worker loads the model once it claims the seats
        while not count(db, CLAIMED):
            assert time.monotonic() < deadline and up.poll() is None, "no seat was claimed"
            time.sleep(0.2)
        time.sleep(2)  # generating now
        processes = descendants(up.pid)
        assert len(processes) >= 3  # the worker, the server and its web worker
        started = time.monotonic()
        up.send_signal(signum)
        try:
            up.wait(timeout=25)
        except subprocess.TimeoutExpired:
            pytest.fail("shipwith up did not stop within 25 s")
        seconds = time.monotonic() - started
        os.set_blocking(up.stdout.fileno(), False)  # a child left behind may hold the pipe open
        out = (up.stdout.read() or b"").decode()
        time.sleep(0.5)  # a child killed as `up` exits is reaped by init
        left = still_running(processes)
    finally:
        for pid in [up.pid, *still_running(processes)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        up.wait()
    print(out, f"stopped in {seconds:.1f} s, exit status {up.returncode}", sep="\n")
    with pytest.raises(httpx.HTTPError):
        httpx.get(url, timeout=2)  # the server it started is gone
    return Stopped(up.returncode, out, seconds, left)


def assert_stopped_cleanly(stopped: Stopped, db: Path) -> None:
    assert stopped.seconds < 25
    assert "Stopping" in stopped.out
    assert "Traceback" not in stopped.out
    assert stopped.left == [], f"left running: {stopped.left}"
    # The worker gave its seats back and its task to the queue: the next worker resumes them.
    assert count(db, CLAIMED) == 0
    assert count(db, "select count(*) from panel_seat where status = 'pending'") >= 1
    assert count(db, "select count(*) from panel_panelrun where status = 'running'") == 1
    assert count(db, QUEUED) == 1


@pytest.fixture
def model_server():
    server = FaultServer(default=Reply(good_review())).start()
    yield server
    server.stop()


@pytest.mark.slow
def test_a_stop_request_while_the_worker_generates_stops_every_child(tmp_path, model_server):
    """SIGTERM (systemd, `docker stop`): exit 0 within the bound, no child left behind."""
    db = tmp_path / "shipwith.sqlite3"
    stopped = stop_mid_generation(tmp_path, signal.SIGTERM)
    assert stopped.status == 0
    assert_stopped_cleanly(stopped, db)
    # The next worker takes the interrupted run up again and finishes it.
    worker = [sys.executable, "-m", "shipwith", "worker", "--batch", "--no-startup-delay"]
    env = up_env(tmp_path, model_server)
    subprocess.run(worker, env=env, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    assert count(db, "select count(*) from panel_panelrun where status = 'complete'") == 1
    assert count(db, "select count(*) from panel_review") == 4


@pytest.mark.slow
def test_ctrl_c_while_the_worker_generates_stops_every_child(tmp_path):
    """SIGINT (Ctrl-C): exit 130 within the bound, no child left behind."""
    stopped = stop_mid_generation(tmp_path, signal.SIGINT)
    assert stopped.status == 130
    assert_stopped_cleanly(stopped, tmp_path / "shipwith.sqlite3")


def test_children_die_with_a_killed_up(tmp_path):
    """`up` killed outright (SIGKILL, the OOM killer): the kernel takes its children with it."""
    up, url = start_up(tmp_path, None, "--no-review")
    try:
        wait_for_site(up, url)
        processes = descendants(up.pid)
        assert len(processes) >= 3
    finally:
        up.kill()
        up.wait()
    deadline = time.monotonic() + 10
    while left := still_running(processes):
        if time.monotonic() > deadline:
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            pytest.fail(f"left running: {left}")
        time.sleep(0.2)
