"""A seat is claimed before its model is asked: two workers on one run never ask a seat twice,
and a seat whose worker died is taken up again once its claim runs out."""

import datetime
import os
import subprocess
import sys

import pytest
from django.db import connection
from django.utils import timezone

from shipwith.panel.models import PanelRun, Review, RunStatus, Seat, SeatStatus
from shipwith.panel.runs import panel_run_execute, panel_run_open
from shipwith.panel.seats import seats_claim
from tests.panel.conftest import good_review
from tests.panel.fault_server import FaultServer, Reply
from tests.panel.test_panel_race import database_url, shipwith, stored_reviews

PERSONAS = ("Builder", "Skeptic", "Futurist", "Operator")


@pytest.mark.django_db
def test_a_seat_another_worker_holds_is_left_to_it(fault_server, personas, make_tool):
    run = panel_run_open(tool_id=make_tool().pk)
    skeptic = Seat.objects.get(run=run, persona__key="skeptic")
    assert seats_claim(seat_ids=[skeptic.pk]) == {skeptic.pk}  # another worker is asking it
    assert seats_claim(seat_ids=[skeptic.pk]) == set()  # and nobody else may meanwhile

    run = panel_run_execute(run_id=run.pk)
    assert [len(fault_server.seen(name)) for name in PERSONAS] == [1, 0, 1, 1]
    # The run is not called incomplete while the other worker still holds a seat.
    assert run.status == RunStatus.RUNNING
    assert Seat.objects.get(pk=skeptic.pk).status == SeatStatus.PENDING

    # That worker was killed: once its claim runs out, the next execution takes the seat.
    Seat.objects.filter(pk=skeptic.pk).update(
        claimed_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    run = panel_run_execute(run_id=run.pk)
    assert [len(fault_server.seen(name)) for name in PERSONAS] == [1, 1, 1, 1]
    assert run.status == RunStatus.COMPLETE
    assert not Seat.objects.filter(run=run, claimed_until__isnull=False).exists()


@pytest.mark.django_db
def test_an_interrupted_run_gives_its_seats_back(fault_server, personas, make_tool, monkeypatch):
    from shipwith.panel import runs

    run = panel_run_open(tool_id=make_tool().pk)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(runs, "_fill_seats", interrupted)
        panel_run_execute(run_id=run.pk)
    # Ctrl-C in `shipwith up`: the next `up` must not wait out a lease to finish the panel.
    assert not Seat.objects.filter(run=run, claimed_until__isnull=False).exists()
    assert panel_run_execute(run_id=run.pk).status == RunStatus.COMPLETE


EXECUTE = """
from shipwith.panel.models import PanelRun
from shipwith.panel.runs import panel_run_execute
print(panel_run_execute(run_id=PanelRun.objects.get().pk).status)
"""

SETUP = """
from tests.panel.test_panel_race import make
from shipwith.panel.runs import panel_run_open
from shipwith.catalog.models import Tool
make()
panel_run_open(tool_id=Tool.objects.get().pk)
"""


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_run_ask_each_seat_once(tmp_path, personas, make_tool):
    server = FaultServer(default=Reply(good_review(), delay=0.3)).start()
    env = os.environ | {
        "DATABASE_URL": database_url(tmp_path),
        "SHIPWITH_HOME": str(tmp_path),
        "SHIPWITH_LLM": "openai:fake-model",
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": "test",
        "PYTHONPATH": os.getcwd(),
    }
    try:
        if connection.vendor == "sqlite":
            shipwith(env, "migrate", "-v0", cwd=tmp_path)
            shipwith(env, "shell", "-c", SETUP, cwd=tmp_path)
        else:
            panel_run_open(tool_id=make_tool().pk)
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "shipwith", "shell", "-c", EXECUTE],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [worker.communicate(timeout=120) for worker in workers]
    finally:
        server.stop()
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    assert [len(server.seen(name)) for name in PERSONAS] == [1, 1, 1, 1]
    # Whichever worker settled the last seat called the run complete.
    assert "complete" in "".join(out for out, _ in outputs)
    assert sorted(persona for persona, _, _ in stored_reviews(tmp_path)) == sorted(
        name.lower() for name in PERSONAS
    )
    if connection.vendor != "sqlite":
        assert PanelRun.objects.get().status == RunStatus.COMPLETE
        assert Review.objects.count() == 4
