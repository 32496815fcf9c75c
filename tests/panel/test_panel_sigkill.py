"""A worker killed with SIGKILL mid-run leaves no duplicate reviews when the run is retried.

The review runs in a subprocess, so both share a file-based SQLite database of their own.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.panel.conftest import good_review
from tests.panel.fault_server import FaultServer, Reply

SHIPWITH = [sys.executable, "-m", "shipwith"]
SETUP = """
from shipwith.catalog.models import Category, Source, Tool
category = Category.objects.create(name="Coding", slug="coding")
tool = Tool.objects.create(name="Quillstack", slug="quillstack", category=category)
Source.objects.create(tool=tool, url="https://example.com/q",
    snapshot="Quillstack indexes a repository in under a minute and answers questions about it.")
"""


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture
def server():
    server = FaultServer(default=Reply(good_review())).start()
    yield server
    server.stop()


def test_sigkill_after_the_first_review_then_retry(tmp_path, server):
    db = tmp_path / "shipwith.sqlite3"
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{db}",
        "SHIPWITH_HOME": str(tmp_path),
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": "test",
        "SHIPWITH_LLM_RETRIES": "0",
        "SHIPWITH_PANEL_SEAT_LEASE": "1",
    }
    subprocess.run([*SHIPWITH, "migrate", "-v0"], env=env, check=True, cwd=tmp_path)
    subprocess.run([*SHIPWITH, "shell", "-c", SETUP], env=env, check=True, cwd=tmp_path)
    # The Builder answers at once; the others keep the worker busy until it is killed.
    for persona in ("Skeptic", "Futurist", "Operator"):
        server.script(persona, Reply(good_review(), delay=30))
    review = [*SHIPWITH, "review", "quillstack", "--model", "openai:fake"]
    worker = subprocess.Popen(
        review, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not rows(db, "select count(*) from panel_review")[0][0]:
        assert time.monotonic() < deadline, "the first review never arrived"
        assert worker.poll() is None
        time.sleep(0.1)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    assert rows(db, "select status from panel_panelrun") == [("running",)]

    server.scripts.clear()  # the model is healthy again
    time.sleep(1.2)  # the dead worker's claims on its seats run out (renewed while it lived)
    retry = subprocess.run(review, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert retry.returncode == 0, retry.stderr
    assert "Quillstack: complete" in retry.stdout
    reviews = rows(db, "select persona_id, version, is_current, run_id from panel_review")
    assert len(reviews) == 4
    assert len({persona for persona, *_ in reviews}) == 4  # one per persona, no duplicate
    assert {(version, current) for _, version, current, _ in reviews} == {(1, 1)}
    assert rows(db, "select status from panel_panelrun") == [("complete",)]  # resumed, not new
    assert len(server.seen("Builder")) == 1  # the stored seat was not asked again
