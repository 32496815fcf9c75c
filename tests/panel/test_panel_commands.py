"""`shipwith review` and `shipwith compare` as an editor uses them in the terminal."""

import pytest
from django.core.management import CommandError

from shipwith.panel.models import PanelRun, Review, RunStatus
from shipwith.panel.selectors import tools_lacking_panel
from tests.panel.conftest import good_review

pytestmark = pytest.mark.django_db


def test_review_stores_a_panel_and_reports_it(run_command, mock_model, personas, make_tool):
    tool = make_tool()
    mock_model.enqueue(*[good_review()] * 3, good_review("skip"))
    out = run_command("review", tool.slug, "--model", "mock:m")
    assert "Quillstack: complete · 75% ship (3 of 4)" in out
    assert "1 of 1 panels complete." in out
    assert Review.objects.filter(tool=tool, is_current=True).count() == 4
    assert tools_lacking_panel() == []


def test_review_refuses_unknown_slugs(run_command, personas):
    with pytest.raises(CommandError, match="no tool with slug: nope"):
        run_command("review", "nope")


def test_compare_shows_the_figure_only_for_a_complete_panel(
    run_command, mock_model, personas, make_tool
):
    full, partial = make_tool("quillstack"), make_tool("rivalbase")
    mock_model.concurrent = False
    mock_model.enqueue(*[good_review()] * 3, good_review("skip"))
    run_command("review", full.slug, "--model", "mock:m")
    from shipwith.panel.llm import LLMTimeout

    mock_model.enqueue(good_review("skip"), LLMTimeout("timed out"), *[good_review()] * 2)
    run_command("review", partial.slug, "--model", "mock:m")
    assert PanelRun.objects.get(tool=partial).status == RunStatus.INCOMPLETE

    out = run_command("compare", full.slug, partial.slug)
    assert "Quillstack vs Rivalbase — which one should you ship with?" in out
    panel_line = next(line for line in out.splitlines() if line.startswith("Panel"))
    assert "75% ship (3 of 4)" in panel_line
    assert "3 of 4 reviews: incomplete" in panel_line
    assert panel_line.count("%") == 1  # no headline figure for the incomplete panel
    builder = next(line for line in out.splitlines() if line.startswith("Builder"))
    assert "ship" in builder and "skip" in builder
    skeptic = next(line for line in out.splitlines() if line.startswith("Skeptic"))
    assert "no review" in skeptic
    assert "Split: Builder" in out


def test_compare_warns_when_the_embedded_model_wrote_the_takes(
    run_command, mock_model, personas, make_tool
):
    a, b = make_tool("quillstack"), make_tool("rivalbase")
    Review.objects.create(
        tool=a,
        persona=personas[0],
        version=1,
        verdict="ship",
        take="t",
        confidence=1,
        prompt_version=1,
        model_id="SmolLM2",
        provider="local",
    )
    out = run_command("compare", a.slug, b.slug)
    assert "writes text of little value" in out and "SHIPWITH_LLM=openai:MODEL" in out


def test_review_all_runs_every_tool(run_command, mock_model, personas, make_tool):
    make_tool("quillstack"), make_tool("rivalbase")
    mock_model.enqueue(*[good_review()] * 8)
    out = run_command("review", "--all", "--model", "mock:m")
    assert "2 of 2 panels complete." in out
    with pytest.raises(CommandError, match="not both"):
        run_command("review", "quillstack", "--all")


def test_compare_shows_the_claims_the_split_risks_and_the_evidence(
    run_command, mock_model, personas, make_tool
):
    a, b = make_tool("quillstack"), make_tool("rivalbase")
    mock_model.concurrent = False
    quotes = ["indexes a repository in under a minute", "a sentence no source holds"]
    mock_model.enqueue(
        good_review(claim_to_pressure="Beats every open-source alternative."),
        *[good_review(claim_to_pressure="")] * 3,
    )
    run_command("review", a.slug, "--model", "mock:m")
    mock_model.enqueue(
        good_review(
            "skip",
            key_risk="Pricing jumps past ten seats.",
            claim_to_pressure="",
            evidence_quotes=quotes,
        ),
        *[good_review(claim_to_pressure="")] * 3,
    )
    run_command("review", b.slug, "--model", "mock:m")

    out = run_command("compare", a.slug, b.slug)
    assert (
        "Claims to pressure — Quillstack:\n  Builder: Beats every open-source alternative." in out
    )
    assert "Claims to pressure — Rivalbase" not in out  # no claim named there
    risks = out.split("Key risks as the Builder sees them:\n", 1)[1]
    assert risks.startswith(
        "  Quillstack: Indexing cost grows with the monorepo.\n"
        "  Rivalbase: Pricing jumps past ten seats.\n"
    )
    assert "Evidence — Quillstack: 4 quotes found in its sources\n" in out
    assert "Evidence — Rivalbase: 4 quotes found in its sources, 1 dropped as unverified" in out
