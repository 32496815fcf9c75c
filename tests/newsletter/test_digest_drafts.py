"""The digest carries verdicts only: a draft panel (a take by the embedded model) is no news."""

import datetime as dt

import pytest

from shipwith.ingest.models import Candidate, Status
from shipwith.newsletter.digest import digest_render
from shipwith.newsletter.selectors import week_items
from shipwith.panel.models import Review

pytestmark = pytest.mark.django_db


def embedded(tool) -> None:
    Review.objects.filter(tool=tool).update(provider="local", model_id="SmolLM2-135M")


def test_a_draft_panel_is_never_a_comparison_nor_a_figure_in_the_digest(
    week, make_tool, make_comparison, personas, make_review
):
    llama, vllm, tgi = make_tool("Code Llama"), make_tool("vLLM"), make_tool("TGI")
    for persona, verdict in zip(personas, ["ship", "ship", "skip", "skip"], strict=True):
        make_review(llama, persona, verdict)
        make_review(vllm, persona, "ship")
        make_review(tgi, persona, "skip")
    embedded(llama)
    make_comparison(llama, vllm, week.start + dt.timedelta(days=5), read="Llama, says the draft.")
    make_comparison(tgi, vllm, week.start + dt.timedelta(days=1), read="vLLM for throughput.")
    Candidate.objects.create(
        name="Code Llama",
        tool=llama,
        status=Status.ACCEPTED,
        decided_at=week.start + dt.timedelta(days=2),
        facts={},
    )
    # The embedded model changing its mind is no verdict change.
    make_review(llama, personas[0], "skip", previous="ship", version=2, at=week.start)
    embedded(llama)

    items = week_items(week)

    compared = [item["title"] for item in items if item["kind"] == "comparison"]
    assert compared == ["TGI vs vLLM"]
    assert [item["count"] for item in items if item["kind"] == "more"] == [1]
    assert not [item for item in items if item["kind"] == "flip"]
    (new_tool,) = [item for item in items if item["kind"] == "new_tool"]
    assert new_tool["panel"] == "panel a draft by the embedded model, no verdict yet"
    digest = digest_render(items=items, week_slug=week.slug, category_slugs=frozenset())
    assert "Code Llama" in digest.text and "a draft by the embedded model" in digest.text
    assert "2 of 4 ship" not in digest.text and "Llama, says the draft." not in digest.text
    assert "2 of 4 ship" not in digest.html


def test_a_capable_review_that_replaces_a_draft_is_no_verdict_change(
    week, make_tool, personas, make_review
):
    llama = make_tool("Code Llama")
    for persona in personas:
        make_review(llama, persona, "ship")
    embedded(llama)
    make_review(
        llama, personas[1], "skip", previous="ship", version=2, at=week.start + dt.timedelta(days=1)
    )
    assert not [item for item in week_items(week) if item["kind"] == "flip"]
