"""`shipwith ingest …`: the contract scripts rely on."""

import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from shipwith.ingest.models import Candidate, IngestSource, Status
from shipwith.ingest.run import items_ingest
from tests.ingest.conftest import make_item

pytestmark = pytest.mark.django_db


def test_sources_add_and_list(run_command, categories):
    out = run_command(
        "ingest", "sources", "add", "hf-hub", "--kind", "huggingface",
        "--url", "https://huggingface.co/api/models?sort=createdAt&direction=-1&limit=100",
        "--option", "min_likes=50", "--option", "pipeline_tags=[\"text-generation\"]",
    )  # fmt: skip
    assert "Added source 'hf-hub'" in out
    source = IngestSource.objects.get()
    assert source.options == {"min_likes": 50, "pipeline_tags": ["text-generation"]}
    listing = run_command("ingest", "sources", "list")
    assert listing.startswith("hf-hub\thuggingface\thttps://huggingface.co/api/models")
    assert "last success never" in listing


def test_sources_add_refuses_autopublish_for_hacker_news(run_command):
    with pytest.raises(CommandError, match="hackernews sources never autopublish"):
        run_command("ingest", "sources", "add", "show-hn", "--kind", "hackernews", "--autopublish")
    assert not IngestSource.objects.exists()


def test_sources_add_refuses_an_option_the_kind_does_not_know(run_command):
    with pytest.raises(CommandError, match="source 'hub'.*min_stars"):
        run_command(
            "ingest", "sources", "add", "hub", "--kind", "huggingface", "--option", "min_stars=5"
        )
    with pytest.raises(CommandError, match="source 'blog'.*URL"):
        run_command("ingest", "sources", "add", "blog", "--kind", "feed")
    assert not IngestSource.objects.exists()


def test_sources_add_refuses_a_malformed_option(run_command):
    with pytest.raises(CommandError, match="expected key=value"):
        run_command("ingest", "sources", "add", "x", "--kind", "feed", "--option", "min_likes")


def test_candidates_json_lines(run_command, gpt4o_mini, make_source, categories):
    source = make_source("openrouter", "openrouter")
    items_ingest(
        source=source,
        items=[
            make_item(
                "OpenAI: GPT-4o-mini",
                key="openai/gpt-4o-mini",
                openrouter="openai/gpt-4o-mini",
                input_price_per_mtok=Decimal("0.2"),
            ),
            make_item(
                "Qwen: Qwen3 235B A22B",
                key="qwen/qwen3-235b-a22b",
                openrouter="qwen/qwen3-235b-a22b",
            ),
        ],
    )
    lines = run_command("ingest", "candidates", "--json").splitlines()
    rows = [json.loads(line) for line in lines]
    update, new = rows
    assert update == {
        "id": update["id"],
        "name": "GPT-4o mini",
        "status": "update",
        "tool": "gpt-4o-mini",
        "category": "hosted-models",
        "sources": ["openrouter"],
        "changes": {"price_input_per_mtok": ["0.15", "0.2"]},
    }
    assert list(new) == ["id", "name", "status", "tool", "category", "sources", "changes"]
    assert (new["status"], new["tool"], new["changes"]) == ("new", None, {})
    assert isinstance(new["id"], int) and new["category"] == "hosted-models"

    only_new = run_command("ingest", "candidates", "--status", "new", "--json").splitlines()
    assert [json.loads(line)["id"] for line in only_new] == [new["id"]]


def test_accept_and_reject_by_id(run_command, categories, make_source):
    source = make_source("hn", "hackernews")
    items = [
        make_item("Zorblax", key="1"),
        make_item("Quibbler DB", key="2"),
        make_item("Fnord", key="3"),
    ]
    items_ingest(source=source, items=items)
    first, second, third = Candidate.objects.order_by("pk")
    out = run_command("ingest", "accept", str(first.pk), "--category", "vector-databases")
    assert f"{first.pk}: accepted as zorblax" in out
    out = run_command("ingest", "reject", str(second.pk), "--reason", "Not an AI tool")
    assert f"{second.pk}: rejected" in out
    assert Candidate.objects.get(pk=second.pk).rejection_reason == "Not an AI tool"
    with pytest.raises(CommandError, match="1 of 2 not decided"):
        run_command("ingest", "reject", str(third.pk), "999999", "--reason", "Duplicate of Zorblax")
    assert Candidate.objects.get(pk=third.pk).status == Status.REJECTED


def test_reject_needs_a_reason():
    with pytest.raises(CommandError):
        call_command("ingest", "reject", "1")


def test_run_names_an_unknown_source(run_command):
    with pytest.raises(CommandError, match="no source named 'nope'"):
        run_command("ingest", "run", "nope")


def test_candidates_lists_by_each_status_and_names_them_on_a_typo(run_command, capsys):
    for status in ["new", "update", "duplicate", "accepted", "rejected"]:  # the README's list
        run_command("ingest", "candidates", "--status", status)
    with pytest.raises(CommandError, match="invalid choice: 'acepted'.*'accepted'"):
        run_command("ingest", "candidates", "--status", "acepted")
