"""`shipwith up` serves the site first, then fills in the panels of tools that lack one."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.panel.conftest import good_review
from tests.panel.dbfaults import sqlite_trigger
from tests.panel.fault_server import FaultServer, Reply

# `up` and the children it starts run this checkout's code, whatever the venv has installed.
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def count(db, sql: str) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchone()[0]


@pytest.fixture
def slow_model():
    server = FaultServer(default=Reply(good_review(), delay=0.3)).start()
    yield server
    server.stop()


def up_env(tmp_path, server) -> dict:
    """`up` on a database of its own, reviewing with the fake server (the embedded model: None)."""
    model = {"SHIPWITH_LLM": "local"}
    if server is not None:
        model = {
            "SHIPWITH_LLM": "openai:fake",
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "test",
        }
    return (
        os.environ
        | {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'shipwith.sqlite3'}",
            "SHIPWITH_HOME": str(tmp_path),
            "SHIPWITH_WEB_WORKERS": "1",
            "SHIPWITH_PANEL_SEAT_BACKOFF": "0.5",
            "PYTHONPATH": str(ROOT),
        }
        | model
    )


def start_up(tmp_path, server, *flags: str, env: dict | None = None, stderr=subprocess.DEVNULL):
    port = free_port()
    env = up_env(tmp_path, server) | (env or {})
    command = [sys.executable, "-m", "shipwith", "up", "--bind", f"127.0.0.1:{port}", *flags]
    up = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=stderr)
    return up, f"http://127.0.0.1:{port}/"


def wait_for_site(up, url: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert up.poll() is None, "shipwith up exited"
        assert time.monotonic() < deadline, "the site never answered"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


def wait_for_panels(up, db, status: str, seconds: float) -> int:
    """Wait, with `up` still running, until every tool's run has `status`; return the count."""
    tools = count(db, "select count(*) from catalog_tool")
    runs = f"select count(*) from panel_panelrun where status = '{status}'"
    deadline = time.monotonic() + seconds
    while count(db, runs) < tools:
        assert up.poll() is None, "shipwith up stopped"
        assert time.monotonic() < deadline, f"{count(db, runs)} of {tools} panels {status}"
        time.sleep(0.5)
    return tools


def stop(up) -> str:
    up.send_signal(signal.SIGTERM)
    out, _ = up.communicate(timeout=30)
    return out.decode()


def test_up_serves_while_the_reviews_fill_in(tmp_path, slow_model):
    db = tmp_path / "shipwith.sqlite3"
    up, url = start_up(tmp_path, slow_model)
    try:
        wait_for_site(up, url)
        tools = count(db, "select count(*) from catalog_tool")
        done = "select count(*) from panel_panelrun where status = 'complete'"
        assert count(db, done) < tools  # browsable before the panel has finished
        deadline = time.monotonic() + 120
        while count(db, done) < tools:
            assert time.monotonic() < deadline, f"{count(db, done)} of {tools} panels"
            time.sleep(0.5)
        assert httpx.get(url, timeout=5).status_code == 200
    finally:
        out = stop(up)
    assert f"Reviewing {tools} tools that lack a panel" in out
    assert count(db, "select count(*) from panel_review") == 4 * tools


def test_up_no_review_leaves_the_panel_alone(tmp_path, slow_model):
    up, url = start_up(tmp_path, slow_model, "--no-review")
    try:
        wait_for_site(up, url)
    finally:
        stop(up)
    assert count(tmp_path / "shipwith.sqlite3", "select count(*) from panel_panelrun") == 0
    assert slow_model.requests == []


def test_up_keeps_serving_when_a_seat_cannot_be_stored(tmp_path, slow_model):
    db = tmp_path / "shipwith.sqlite3"
    setup = [sys.executable, "-m", "shipwith", "up", "--setup-only"]
    subprocess.run(setup, env=up_env(tmp_path, slow_model), cwd=tmp_path, check=True)
    with sqlite3.connect(db) as connection:  # the database refuses every Skeptic review
        connection.execute(sqlite_trigger("skeptic"))
    # One attempt per seat: the worker must not retry while we count.
    up, url = start_up(tmp_path, slow_model, env={"SHIPWITH_PANEL_SEAT_RETRIES": "1"})
    try:
        wait_for_site(up, url)
        tools = wait_for_panels(up, db, "incomplete", 120)
        time.sleep(1)
        assert up.poll() is None  # still serving after every panel met the error
        assert httpx.get(url, timeout=5).status_code == 200
        tool = httpx.get(url + "tools/vllm/", timeout=5).text
        assert "review failed (database error while storing the review" in tool
    finally:
        stop(up)
    failed = "select count(*) from panel_seat where status = 'failed' and error like '%locked%'"
    assert count(db, failed) == tools
    assert count(db, "select count(*) from panel_review") == 3 * tools


def test_up_hands_a_failed_seat_to_the_worker_which_finishes_the_panel(tmp_path, slow_model):
    db = tmp_path / "shipwith.sqlite3"
    # The first Operator call fails (no retries inside the call); every later one answers.
    slow_model.script("Operator", Reply(status=500), Reply(good_review(), delay=0.3))
    up, url = start_up(tmp_path, slow_model, env={"SHIPWITH_LLM_RETRIES": "0"})
    try:
        wait_for_site(up, url)
        tools = wait_for_panels(up, db, "complete", 180)
    finally:
        stop(up)
    retried = "select attempts, error from panel_seat where attempts > 1"
    with sqlite3.connect(db) as connection:
        assert connection.execute(retried).fetchall() == [(2, "")]  # asked again once, stored
    assert len(slow_model.seen("Operator")) == tools + 1


@pytest.mark.slow
def test_ctrl_c_during_an_embedded_review_stops_at_once_and_cleanly(tmp_path):
    """Ctrl-C, then Ctrl-C again, while the embedded model generates: a prompt, clean exit."""
    up, url = start_up(tmp_path, None)
    try:
        wait_for_site(up, url)
        db = tmp_path / "shipwith.sqlite3"
        deadline = time.monotonic() + 60  # the model is loaded and asked once a seat is claimed
        while not count(db, "select count(*) from panel_seat where claimed_until is not null"):
            assert time.monotonic() < deadline and up.poll() is None
            time.sleep(0.2)
        time.sleep(2)  # generating now
        up.send_signal(signal.SIGINT)
        time.sleep(0.3)
        up.send_signal(signal.SIGINT)
        out, _ = up.communicate(timeout=20)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 130  # not a wait for the generation, not a crash (-11)
    assert "Stopping: reviews done so far are kept" in out.decode()
    assert_seats_given_back_and_server_gone(db, url)


@pytest.mark.slow
def test_a_stop_request_during_an_embedded_review_stops_at_once(tmp_path):
    """SIGTERM (systemd, docker stop) while the embedded model generates: exit 0 at once."""
    up, url = start_up(tmp_path, None)
    try:
        wait_for_site(up, url)
        db = tmp_path / "shipwith.sqlite3"
        deadline = time.monotonic() + 60
        while not count(db, "select count(*) from panel_seat where claimed_until is not null"):
            assert time.monotonic() < deadline and up.poll() is None
            time.sleep(0.2)
        time.sleep(2)  # generating now
        up.send_signal(signal.SIGTERM)
        out, _ = up.communicate(timeout=10)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0
    assert "Stopping: reviews done so far are kept" in out.decode()
    assert_seats_given_back_and_server_gone(db, url)


def assert_seats_given_back_and_server_gone(db, url: str) -> None:
    # The seats it was asking are given back: the next `up` resumes them at once.
    assert count(db, "select count(*) from panel_seat where claimed_until is not null") == 0
    with pytest.raises(httpx.HTTPError):
        httpx.get(url, timeout=2)  # the server it started is gone
