"""`shipwith status`: the operator's one screen, and its exit status."""

import datetime as dt
import socket

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shipwith.ingest.models import Candidate, IngestSource
from shipwith.ingest.tasks import ingest_poll
from shipwith.newsletter.models import Delivery, Issue, Subscriber
from shipwith.newsletter.selectors import Week
from shipwith.newsletter.tasks import weekly_schedule
from shipwith.panel.models import RunStatus
from shipwith.panel.runs import panel_run
from tests.factories import make_panel
from tests.factories import make_tool as make_catalog_tool
from tests.panel.fault_server import Reply
from tests.status import tasks

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def work_off_the_queue() -> None:
    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)


def test_a_fresh_database_shows_sources_never_run_zero_counts_and_a_draft_model(status):
    IngestSource.objects.create(name="openrouter-models", kind="openrouter")
    code, out = status()
    assert code == 0
    assert "\x1b[" not in out  # not a terminal: no colour codes
    assert "the embedded SmolLM2-135M" in out
    assert "draft model  yes: its panels are drafts, not verdicts" in out
    assert "0 verdicts · 0 drafts" in out
    [row] = [line for line in out.splitlines() if "openrouter-models" in line]
    assert row.split()[:4] == ["openrouter-models", "openrouter", "never", "run"]
    assert "Sources (next ingest run: not queued)" in out
    assert "new      0" in out and "update   0" in out and "backlog  0" in out
    assert "queued          0 (0 due now)" in out
    assert "failed 24 h     0" in out
    assert "next send   not queued: shipwith newsletter schedule" in out
    assert out.rstrip().endswith("All clear.")


def test_a_failing_source_shows_its_error_and_exits_2(status, settings):
    settings.SHIPWITH_INGEST_ALLOW_PRIVATE = True
    settings.SHIPWITH_INGEST_ALLOWED_PORTS = range(1, 65536)
    settings.SHIPWITH_INGEST_RETRIES = 0
    settings.SHIPWITH_INGEST_HOST_DELAY = 0
    IngestSource.objects.create(
        name="vendor-feed", kind="feed", url=f"http://127.0.0.1:{closed_port()}/feed.xml"
    )
    IngestSource.objects.create(name="idle", kind="openrouter", enabled=False)
    for _ in range(2):
        with pytest.raises(CommandError, match="some sources failed"):
            call_command("ingest", "run", "vendor-feed", stdout=None, stderr=None)
    code, out = status()
    assert code == 2
    lines = out.splitlines()
    [row] = [line for line in lines if line.lstrip().startswith("vendor-feed")]
    assert "failing ×2" in row
    error = lines[lines.index(row) + 1]
    assert error.lstrip().startswith("error ") and "source 'vendor-feed'" in error
    assert "idle" in out and "disabled" in out
    assert "Needs attention" in out
    assert "! source vendor-feed is failing (2 runs in a row): source 'vendor-feed'" in out


@pytest.mark.django_db(transaction=True)  # the worker commits its results
def test_a_task_failed_in_the_last_24_hours_shows_counts_and_exits_2(status, status_json):
    tasks.always_fails.enqueue()
    tasks.does_nothing.enqueue()
    work_off_the_queue()
    # A failure two days old is history, not news.
    old = tasks.always_fails.enqueue()
    work_off_the_queue()
    DBTaskResult.objects.filter(pk=old.id).update(finished_at=timezone.now() - dt.timedelta(days=2))
    code, out = status()
    assert code == 2
    assert "failed 24 h     1" in out
    assert "succeeded 24 h  1" in out
    assert "always_fails  RuntimeError" in out
    assert "! 1 task failed in the last 24 h" in out
    _, data = status_json()
    assert data["tasks"]["failed_recently"] == 1
    assert data["tasks"]["recent_failures"][0]["task"] == "always_fails"


def test_a_task_waiting_over_an_hour_with_no_worker_exits_2(
    status, django_capture_on_commit_callbacks
):
    IngestSource.objects.create(
        name="hourly", kind="openrouter", next_run_at=timezone.now() + dt.timedelta(minutes=50)
    )
    # The polling's next look, queued when the source is due: not due, never "waiting".
    ingest_poll.using(run_after=timezone.now() + dt.timedelta(minutes=5)).enqueue()
    assert status()[0] == 0
    waiting = tasks.does_nothing.enqueue()
    DBTaskResult.objects.filter(pk=waiting.id).update(
        enqueued_at=timezone.now() - dt.timedelta(minutes=90)
    )
    code, out = status()
    assert code == 2
    assert "queued          2 (1 due now, oldest waiting 90 min)" in out
    assert "1 task waiting since" in out and "none running" in out
    # The enabled source's next run is when it is due, the polling being queued.
    assert "Sources (next ingest run: " in out and " min)" in out.split("Sources (")[1]
    assert "not queued" not in out.split("Candidates")[0]


def test_candidates_waiting_by_status(status, status_json):
    rows = [("A", "new"), ("B", "new"), ("C", "update"), ("D", "rejected"), ("E", "backlog")]
    for name, state in rows:
        Candidate.objects.create(name=name, status=state)
    code, out = status()
    assert code == 0
    assert "new      2" in out and "update   1" in out and "rejected" not in out
    assert "backlog  1" in out  # a source's back catalog, for an editor to accept in bulk
    assert status_json()[1]["candidates"] == {"new": 2, "update": 1, "backlog": 1}


def test_an_incomplete_panel_is_counted_with_its_failed_seat(
    status, status_json, fault_server, personas, make_tool
):
    fault_server.script("Operator", Reply(status=400))
    run = panel_run(tool_id=make_tool().pk)
    assert run.status == RunStatus.INCOMPLETE
    code, out = status()
    assert code == 0
    assert "incomplete     1 tool (0 lack a panel)" in out
    assert "failed seats   1" in out and "recused seats  0" in out
    assert "1 panel to finish: shipwith review --incomplete" in out
    assert status_json()[1]["panels"] == {
        "verdicts": 0,
        "drafts": 0,
        "incomplete": 1,
        "lacking_panel": 0,
        "failed_seats": 1,
        "recused_seats": 0,
        "to_finish": 1,
    }


def test_drafts_and_verdicts_are_counted_apart(status):
    make_panel(make_catalog_tool("verdict-tool"), "ssks")  # four takes by a capable model
    make_panel(make_catalog_tool("draft-tool"), "ssss", provider="local")
    make_panel(make_catalog_tool("half-draft"), "ss", provider="local")
    make_panel(make_catalog_tool("half-done"), "sk")
    out = status()[1]
    assert "panels       1 verdict · 2 drafts" in out
    assert "incomplete     2 tools" in out


def test_json_is_one_object_with_the_documented_keys(status_json):
    IngestSource.objects.create(name="hn", kind="hackernews")
    code, data = status_json()
    assert code == 0
    assert set(data) == {
        "generated_at",
        "model",
        "panels",
        "sources",
        "next_ingest_at",
        "candidates",
        "tasks",
        "newsletter",
        "needs_attention",
    }
    assert data["model"] == {
        "spec": "local",
        "message": data["model"]["message"],
        "low_capability": True,
        "error": "",
    }
    [source] = data["sources"]
    assert source["name"] == "hn" and source["health"] == "never run"
    assert set(source) >= {"last_run_at", "last_success_at", "last_error", "next_run_at"}
    assert set(data["tasks"]) == {
        "queued",
        "due",
        "running",
        "failed_recently",
        "succeeded_recently",
        "oldest_due_at",
        "recent_failures",
    }
    assert data["newsletter"] == {"next_send_at": None, "last_issue": None}
    assert data["needs_attention"] == []


def test_the_next_newsletter_send_and_the_last_issue_deliveries(
    status, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        when = weekly_schedule()
    week = Week.parse("2026-w47")
    issue = Issue.objects.create(slug=week.slug, week_start=week.start, week_end=week.end)
    for number, state in enumerate(["sent", "sent", "pending", "deferred", "bounced", "skipped"]):
        reader = Subscriber.objects.create(
            email=f"reader{number}@example.com", confirmed_at=timezone.now()
        )
        Delivery.objects.create(issue=issue, subscriber=reader, status=state)
    code, out = status()
    assert code == 0
    assert f"next send   {when:%Y-%m-%d %H:%M} (in " in out
    assert "last issue  2026-w47: 2 sent · 2 pending · 1 failed" in out
