"""Recusal never dead-ends: an alternate model takes the seat, or the seat says how to fix it.

On the OpenAI-compatible fake server: SHIPWITH_LLM=openai:gpt-4o reviewing OpenAI's own tool.
"""

import pytest

from shipwith.panel.models import Review, RunStatus, SeatStatus
from shipwith.panel.runs import panel_run
from tests.panel.fault_server import Reply
from tests.web.conftest import forget_pages

pytestmark = pytest.mark.django_db


@pytest.fixture
def gpt4o(fault_server, settings):
    settings.SHIPWITH_LLM = "openai:gpt-4o"
    settings.SHIPWITH_LLM_ALTERNATE = ""
    return fault_server


def models_asked(server) -> list[str]:
    return [seen.body["model"] for seen in server.requests]


def test_the_alternate_writes_the_seats_the_default_must_leave(
    gpt4o, settings, personas, make_tool
):
    settings.SHIPWITH_LLM_ALTERNATE = "openai:qwen2.5-72b-instruct"
    tool = make_tool(slug="gpt-4o", vendor="OpenAI")
    run = panel_run(tool_id=tool.pk)
    assert run.status == RunStatus.COMPLETE
    assert set(models_asked(gpt4o)) == {"qwen2.5-72b-instruct"}  # gpt-4o was never asked
    reviews = Review.objects.filter(tool=tool, is_current=True)
    assert reviews.count() == 4
    for review in reviews:
        assert review.model_id == "qwen2.5-72b-instruct"
        assert review.alternate_for == "openai:gpt-4o is made by OpenAI"
    assert {seat.model_spec for seat in run.seats.all()} == {"openai:qwen2.5-72b-instruct"}


def test_the_take_says_the_alternate_wrote_it_and_why(gpt4o, settings, personas, make_tool, client):
    settings.SHIPWITH_LLM_ALTERNATE = "openai:qwen2.5-72b-instruct"
    tool = make_tool(slug="gpt-4o", vendor="OpenAI")
    panel_run(tool_id=tool.pk)
    forget_pages()
    html = client.get("/tools/gpt-4o/").content.decode()
    assert html.count("Written by the alternate model because openai:gpt-4o is made by") == 4
    assert "openai:qwen2.5-72b-instruct" in html


def test_a_tool_of_another_vendor_keeps_the_default(gpt4o, settings, personas, make_tool):
    settings.SHIPWITH_LLM_ALTERNATE = "openai:qwen2.5-72b-instruct"
    panel_run(tool_id=make_tool(vendor="Quillstack Labs").pk)
    assert set(models_asked(gpt4o)) == {"gpt-4o"}
    assert not Review.objects.exclude(alternate_for="").exists()


def test_a_persona_alternate_overrides_the_setting(gpt4o, settings, personas, make_tool):
    settings.SHIPWITH_LLM_ALTERNATE = "openai:qwen2.5-72b-instruct"
    builder = personas[0]
    builder.alternate_spec = "openai:mistral-large"
    builder.save()
    panel_run(tool_id=make_tool(slug="gpt-4o", vendor="OpenAI").pk)
    by_persona = dict(Review.objects.values_list("persona__key", "model_id"))
    assert by_persona["builder"] == "mistral-large"
    assert by_persona["skeptic"] == "qwen2.5-72b-instruct"


def test_without_an_alternate_the_seats_stay_recused_and_say_how_to_fix_it(
    gpt4o, personas, make_tool, run_command, client
):
    tool = make_tool(slug="gpt-4o", vendor="OpenAI")
    out = run_command("review", "gpt-4o")
    assert gpt4o.requests == []
    assert "4 seat(s) recused with no usable alternate" in out
    assert "openai:gpt-4o is made by OpenAI and no alternate model is set" in out
    assert "SHIPWITH_LLM_ALTERNATE" in out and "shipwith review --incomplete" in out
    forget_pages()
    html = client.get(f"/tools/{tool.slug}/").content.decode()
    assert "The Skeptic's seat is recused: openai:gpt-4o is made by OpenAI" in html
    assert "0 of 4" in html


def test_an_alternate_of_the_same_vendor_is_no_way_out(gpt4o, settings, personas, make_tool):
    settings.SHIPWITH_LLM_ALTERNATE = "openai:gpt-4o-mini"
    run = panel_run(tool_id=make_tool(slug="gpt-4o", vendor="OpenAI").pk)
    assert run.status == RunStatus.FAILED and gpt4o.requests == []
    assert "alternate openai:gpt-4o-mini is made by OpenAI too" in run.seats.first().error


def test_setting_an_alternate_later_finishes_the_panel_with_review_incomplete(
    gpt4o, settings, personas, make_tool, run_command
):
    tool = make_tool(slug="gpt-4o", vendor="OpenAI")
    other = make_tool(slug="quillstack")
    gpt4o.script("Operator", Reply(status=400))
    run_command("review", "gpt-4o", "quillstack")
    assert Review.objects.filter(tool=tool).count() == 0
    assert Review.objects.filter(tool=other).count() == 3
    settings.SHIPWITH_LLM_ALTERNATE = "openai:qwen2.5-72b-instruct"
    gpt4o.scripts.clear()
    before = len(gpt4o.requests)
    out = run_command("review", "--incomplete")
    asked = gpt4o.requests[before:]
    # The recused panel gets the alternate; of the other only the failed Operator is asked again.
    assert sorted((seen.persona, seen.body["model"]) for seen in asked) == sorted(
        [(p.name, "qwen2.5-72b-instruct") for p in personas] + [("Operator", "gpt-4o")]
    )
    assert Review.objects.filter(tool=tool, is_current=True).count() == 4
    assert Review.objects.filter(tool=other, is_current=True).count() == 4
    assert "2 of 2 panels complete." in out
    statuses = {seat.status for run in tool.panel_runs.all() for seat in run.seats.all()}
    assert statuses == {SeatStatus.DONE}


def test_an_all_recused_panel_is_finished_in_place_not_opened_again_on_each_up(
    gpt4o, settings, personas, make_tool
):
    from shipwith.panel.models import PanelRun
    from shipwith.panel.progress import panels_run_with_progress
    from shipwith.panel.selectors import runs_to_finish, tools_lacking_panel

    tool = make_tool(slug="gpt-4o", vendor="OpenAI")
    for _ in range(3):  # three `shipwith up`s before an editor sets an alternate
        missing = tools_lacking_panel()
        panels_run_with_progress(
            tool_ids=missing, run_ids=runs_to_finish(exclude_tools=missing), write=lambda _: None
        )
    assert PanelRun.objects.filter(tool=tool).count() == 1
    settings.SHIPWITH_LLM_ALTERNATE = "openai:qwen2.5-72b-instruct"
    assert tools_lacking_panel() == []
    (run,) = panels_run_with_progress(tool_ids=[], run_ids=runs_to_finish(), write=lambda _: None)
    assert run.status == RunStatus.COMPLETE and PanelRun.objects.filter(tool=tool).count() == 1


def test_a_model_auto_found_is_recused_from_its_vendors_tools_like_any_other(
    auto, model_server, settings, personas, make_tool
):
    ollama = model_server(["llama3.1:8b", "nomic-embed-text:latest"])
    auto.SHIPWITH_LLM_AUTO_PORTS = [ollama.port]
    settings.SHIPWITH_LLM_ALTERNATE = ""
    run = panel_run(tool_id=make_tool(slug="llama-stack", vendor="Meta").pk)
    assert ollama.requests == []
    assert {seat.status for seat in run.seats.all()} == {SeatStatus.RECUSED}
    assert "openai:llama3.1:8b is made by Meta" in run.seats.first().error
    panel_run(tool_id=make_tool(slug="quillstack").pk)  # another vendor: the auto model writes
    assert set(models_asked(ollama)) == {"llama3.1:8b"}
