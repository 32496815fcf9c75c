"""Merging a candidate into a catalog tool: the match dedupe missed, taught to the catalog."""

from decimal import Decimal

import pytest

from shipwith.catalog.models import Tool
from shipwith.ingest.errors import IngestError
from shipwith.ingest.merging import candidate_merge
from shipwith.ingest.models import Candidate, Status
from shipwith.ingest.run import items_ingest
from tests.ingest.conftest import make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def missed(gpt4o_mini, make_source) -> Candidate:
    """GPT-4o mini under a name and identifiers dedupe cannot tie to the catalog's."""
    items_ingest(
        source=make_source("hf-hub", "huggingface"),
        items=[
            make_item(
                "Mini Omni Four",
                key="openai-community/mini-omni-four",
                huggingface="openai-community/mini-omni-four",
                github="openai/mini-omni-four",
                input_price_per_mtok=Decimal("0.3"),
            )
        ],
    )
    return Candidate.objects.get(status=Status.NEW)


def test_merging_links_the_candidate_and_teaches_the_tool_its_name_and_identifiers(
    missed, gpt4o_mini
):
    merged = candidate_merge(candidate_id=missed.pk, tool_id=gpt4o_mini.pk)
    assert merged.status == Status.ACCEPTED and merged.tool == gpt4o_mini
    assert merged.decided_at is not None
    assert merged.mentions.get().candidate.tool == gpt4o_mini
    tool = Tool.objects.get(pk=gpt4o_mini.pk)
    assert tool.alias_list == ["gpt-4o-mini-2024-07-18", "Mini Omni Four"]
    assert tool.huggingface_id == "openai-community/mini-omni-four"
    assert tool.github_repo == "openai/mini-omni-four"
    assert tool.openrouter_slug == "openai/gpt-4o-mini"  # kept: it had one
    assert tool.price_amount == Decimal("0.15")  # no fact applied
    assert Tool.objects.count() == 1


def test_after_a_merge_the_tool_is_matched_and_never_proposed_as_new(
    missed, gpt4o_mini, make_source
):
    candidate_merge(candidate_id=missed.pk, tool_id=gpt4o_mini.pk)
    # Hacker News names it without any identifier: the alias matches it.
    items_ingest(
        source=make_source("hn", "hackernews"), items=[make_item("Mini Omni Four", key="77")]
    )
    assert not Candidate.objects.filter(status=Status.NEW).exists()
    assert Candidate.objects.filter(tool=gpt4o_mini).count() == 2


def test_a_name_dedupe_already_matches_is_not_added_as_an_alias(gpt4o_mini, make_source):
    candidate = Candidate.objects.create(name="GPT 4o Mini", status=Status.NEW)
    candidate_merge(candidate_id=candidate.pk, tool_id=gpt4o_mini.pk)
    assert Tool.objects.get(pk=gpt4o_mini.pk).alias_list == ["gpt-4o-mini-2024-07-18"]


def test_an_identifier_another_tool_holds_is_not_copied(missed, gpt4o_mini, categories):
    Tool.objects.create(
        name="Other",
        slug="other",
        category=categories["hosted-models"],
        github_repo="openai/mini-omni-four",
    )
    candidate_merge(candidate_id=missed.pk, tool_id=gpt4o_mini.pk)
    assert Tool.objects.get(pk=gpt4o_mini.pk).github_repo == ""


def test_merging_refuses_a_decided_candidate_or_an_unknown_tool(missed, gpt4o_mini):
    with pytest.raises(IngestError, match="no catalog tool with id 999"):
        candidate_merge(candidate_id=missed.pk, tool_id=999)
    assert Candidate.objects.get(pk=missed.pk).status == Status.NEW
    candidate_merge(candidate_id=missed.pk, tool_id=gpt4o_mini.pk)
    with pytest.raises(IngestError, match=r"\(Mini Omni Four\) is already accepted"):
        candidate_merge(candidate_id=missed.pk, tool_id=gpt4o_mini.pk)
    with pytest.raises(IngestError, match="no such candidate"):
        candidate_merge(candidate_id=999, tool_id=gpt4o_mini.pk)


def test_a_duplicate_is_closed_by_merging_it_into_its_tool(gpt4o_mini, make_source):
    items_ingest(
        source=make_source(),
        items=[
            make_item(
                "OpenAI: GPT-4o-mini", key="openai/gpt-4o-mini", openrouter="openai/gpt-4o-mini"
            )
        ],
    )
    duplicate = Candidate.objects.get(status=Status.DUPLICATE)
    candidate_merge(candidate_id=duplicate.pk, tool_id=gpt4o_mini.pk)
    assert Candidate.objects.get(pk=duplicate.pk).status == Status.ACCEPTED
