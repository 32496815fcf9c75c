"""Re-runs add versions, flips are recorded, recusal and persona overrides hold."""

import pytest

from shipwith.panel.models import Review, RunStatus, SeatStatus
from shipwith.panel.runs import panel_run
from shipwith.panel.selectors import panel_summary
from tests.panel.conftest import good_review

pytestmark = pytest.mark.django_db


def test_a_rerun_adds_a_version_and_records_the_flip(mock_model, personas, make_tool):
    tool = make_tool()
    mock_model.enqueue(*[good_review("ship")] * 4)
    panel_run(tool_id=tool.pk, model_spec="mock:m1")
    mock_model.enqueue(good_review("skip"), *[good_review("ship")] * 3)
    mock_model.concurrent = False  # keep the order: the first persona gets the skip
    run = panel_run(tool_id=tool.pk, model_spec="mock:m1")
    assert run.status == RunStatus.COMPLETE
    builder = Review.objects.filter(tool=tool, persona__key="builder").order_by("version")
    assert [(r.version, r.is_current, r.verdict) for r in builder] == [
        (1, False, "ship"),
        (2, True, "skip"),
    ]
    assert builder[1].previous_verdict == "ship" and builder[1].flipped
    skeptic = Review.objects.get(tool=tool, persona__key="skeptic", is_current=True)
    assert skeptic.version == 2 and not skeptic.flipped
    summary = panel_summary(tool.pk)
    assert (summary.ships, summary.completed, summary.ship_percent) == (3, 4, 75)


def test_a_failed_rerun_keeps_the_previous_current_review(mock_model, personas, make_tool):
    from shipwith.panel.llm import LLMTimeout

    tool = make_tool()
    mock_model.enqueue(*[good_review()] * 4)
    panel_run(tool_id=tool.pk, model_spec="mock:m1")
    mock_model.concurrent = False
    mock_model.enqueue(LLMTimeout("timed out"), *[good_review()] * 3)
    run = panel_run(tool_id=tool.pk, model_spec="mock:m1")
    assert run.status == RunStatus.INCOMPLETE
    builder = Review.objects.get(tool=tool, persona__key="builder", is_current=True)
    assert builder.version == 1  # the reader still sees the last good take
    assert panel_summary(tool.pk).is_complete


def test_a_model_never_reviews_its_own_vendors_tool(mock_model, personas, make_tool):
    tool = make_tool(slug="gpt-9", vendor="OpenAI")
    run = panel_run(tool_id=tool.pk, model_spec="mock:gpt-4o-mini")
    assert run.status == RunStatus.FAILED
    assert {seat.status for seat in run.seats.all()} == {SeatStatus.RECUSED}
    assert "made by OpenAI" in run.seats.first().error
    assert mock_model.history == []  # not even asked
    assert not Review.objects.exists()


def test_a_mixed_family_panel_reviews_around_the_recusal(mock_model, personas, make_tool):
    tool = make_tool(slug="claude-9", vendor="Anthropic")
    builder, skeptic, *_ = personas
    for persona in (builder, skeptic):
        persona.model_spec = "mock:claude-sonnet"
        persona.save()
    mock_model.enqueue(*[good_review()] * 2)
    run = panel_run(tool_id=tool.pk)  # the default model covers the other two
    statuses = {seat.persona.key: seat.status for seat in run.seats.all()}
    assert statuses == {
        "builder": SeatStatus.RECUSED,
        "skeptic": SeatStatus.RECUSED,
        "futurist": SeatStatus.DONE,
        "operator": SeatStatus.DONE,
    }
    assert run.status == RunStatus.INCOMPLETE
    summary = panel_summary(tool.pk)
    assert not summary.is_complete and summary.ship_percent is None


@pytest.fixture(autouse=True)
def default_is_mock(settings):
    settings.SHIPWITH_LLM = "mock:qwen-test"


def test_an_unknown_model_spec_is_a_recorded_failure(personas, make_tool):
    run = panel_run(tool_id=make_tool().pk, model_spec="nonsense:model")
    assert run.status == RunStatus.FAILED
    assert "unknown model provider" in run.reason
