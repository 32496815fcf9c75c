"""Incomplete panels get finished: only the failed seats are asked again, never an answered one."""

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from shipwith.panel.models import PanelRun, Review, RunStatus, SeatStatus
from shipwith.panel.runs import panel_run
from shipwith.panel.selectors import runs_to_finish, tools_lacking_panel
from shipwith.panel.tasks import panel_run_enqueue
from tests.panel.fault_server import Reply


def asked(server, persona: str) -> int:
    return len(server.seen(persona))


@pytest.mark.django_db
def test_review_incomplete_asks_only_the_failed_seat(
    fault_server, personas, make_tool, run_command
):
    fault_server.script("Operator", Reply(status=400))
    tool = make_tool()
    run = panel_run(tool_id=tool.pk)
    assert run.status == RunStatus.INCOMPLETE
    assert tools_lacking_panel() == []  # an incomplete panel is not "lacking": it needs finishing
    assert runs_to_finish() == [run.pk]
    takes = dict(Review.objects.values_list("persona__key", "pk"))
    fault_server.scripts.clear()
    out = run_command("review", "--incomplete")
    assert "Finishing 1 incomplete panels" in out
    assert "Quillstack: complete · 100% ship (4 of 4)" in out
    assert [asked(fault_server, name) for name in ("Builder", "Skeptic", "Futurist")] == [1, 1, 1]
    assert asked(fault_server, "Operator") == 2
    # The three stored takes are untouched: same rows, still version 1 and current.
    kept = Review.objects.filter(pk__in=[takes["builder"], takes["skeptic"], takes["futurist"]])
    assert all(review.is_current and review.version == 1 for review in kept)
    assert PanelRun.objects.get(pk=run.pk).status == RunStatus.COMPLETE
    assert runs_to_finish() == []
    assert run_command("review", "--incomplete").startswith("Finishing 0 incomplete panels")


@pytest.mark.django_db
def test_review_incomplete_takes_no_slugs_or_model(run_command, personas):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="only one"):
        run_command("review", "--incomplete", "--all")
    with pytest.raises(CommandError, match="model it started with"):
        run_command("review", "--incomplete", "--model", "local")


@pytest.mark.django_db(transaction=True)
def test_the_worker_retries_a_failed_seat_with_backoff_up_to_the_limit(
    fault_server, settings, personas, make_tool
):
    settings.SHIPWITH_LLM_RETRIES = 0  # one HTTP call per attempt, to count attempts
    settings.SHIPWITH_PANEL_SEAT_RETRIES = 3
    settings.SHIPWITH_PANEL_SEAT_BACKOFF = 0
    fault_server.script("Operator", Reply(status=500), Reply(status=500), Reply(status=500))
    fault_server.script("Skeptic", Reply(status=500), fault_server.default)
    tool = make_tool()
    with transaction.atomic():
        run = panel_run_enqueue(tool_id=tool.pk, model_spec="openai:fake-model")
    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)
    seats = {seat.persona.key: seat for seat in PanelRun.objects.get(pk=run.pk).seats.all()}
    assert asked(fault_server, "Skeptic") == 2 and seats["skeptic"].status == SeatStatus.DONE
    assert asked(fault_server, "Builder") == 1  # answered at once, never asked again
    # The Operator's server failed every time: three attempts, then it waits for an editor.
    assert asked(fault_server, "Operator") == 3
    assert seats["operator"].status == SeatStatus.FAILED
    assert seats["operator"].attempts == 3 and "server error 500" in seats["operator"].error
    panel_tasks = DBTaskResult.objects.filter(task_path__startswith="shipwith.panel.")
    assert panel_tasks.count() == 3  # the run, then two retries (each then publishes pairs)


@pytest.mark.django_db
def test_the_admin_shows_why_each_seat_failed(fault_server, personas, make_tool, admin_client):
    fault_server.script("Futurist", Reply(status=400))
    run = panel_run(tool_id=make_tool().pk)
    page = admin_client.get("/admin/panel/seat/?status__exact=failed").content.decode()
    assert "Futurist" in page and "400" in page
    detail = admin_client.get(f"/admin/panel/panelrun/{run.pk}/change/").content.decode()
    assert "Futurist: failed" in detail
