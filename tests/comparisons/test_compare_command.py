"""`shipwith compare A B`: the pricing read in the terminal, and as JSON for scripts."""

import json
from datetime import timedelta

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from shipwith.catalog.readings import facts_record
from tests.factories import make_category, make_panel, make_tool

pytestmark = pytest.mark.django_db

PRICING = "https://example.com/pricing"


@pytest.fixture
def models():
    hosted = make_category("hosted-models", "Hosted models")
    open_weights = make_category("open-weight-models", "Open-weight models")
    sonnet = make_tool("sonnet", name="Sonnet", category=hosted, deployment="api")
    haiku = make_tool("haiku", name="Haiku", category=hosted, deployment="api")
    llama = make_tool("llama", name="Llama", category=open_weights, deployment="self_hosted")
    for tool, prices in [(sonnet, ("3", "15")), (haiku, ("0.80", "4"))]:
        facts_record(
            tool_id=tool.pk,
            source_url=PRICING,
            source_title="Pricing page",
            read_at=timezone.now() - timedelta(hours=2),
            values={"input_price_per_mtok": prices[0], "output_price_per_mtok": prices[1]},
        )
    for tool in (sonnet, haiku, llama):
        make_panel(tool, "ssss")
    return sonnet, haiku, llama


def test_compare_json_prices_the_three_workloads(run_command, models):
    read = json.loads(run_command("compare", "sonnet", "haiku", "--json"))
    assert [w["name"] for w in read["workloads"]] == ["Chat app", "RAG pipeline", "Agent"]
    chat, rag, agent = read["workloads"]
    # Chat app 20M in + 5M out: Sonnet 20 × 3 + 5 × 15 = 135; Haiku 20 × 0.80 + 5 × 4 = 36.
    assert (chat["input_tokens"], chat["output_tokens"]) == (20_000_000, 5_000_000)
    assert chat["monthly_cost"] == {"sonnet": 135.0, "haiku": 36.0}
    assert chat["cheaper"] == "haiku" and chat["saving"] == 99.0 and chat["times"] == 3.75
    # RAG 100M + 2M: Sonnet 300 + 30 = 330; Haiku 80 + 8 = 88. Agent 300M + 30M: 1,350; 360.
    assert rag["monthly_cost"] == {"sonnet": 330.0, "haiku": 88.0}
    assert agent["monthly_cost"] == {"sonnet": 1350.0, "haiku": 360.0}
    sonnet, haiku = read["tools"]
    assert sonnet["slug"] == "sonnet" and sonnet["facts"][0]["key"] == "input_price_per_mtok"
    assert sonnet["facts"][0]["source"] == {"url": PRICING, "title": "Pricing page"}
    assert sonnet["facts"][0]["value"] == 3


def test_compare_json_says_null_for_a_self_hosted_tool(run_command, models):
    read = json.loads(run_command("compare", "llama", "sonnet", "--json"))
    chat = read["workloads"][0]
    assert chat["monthly_cost"] == {"llama": None, "sonnet": 135.0}
    assert chat["basis"]["llama"] == "self_hosted" and chat["cheaper"] is None
    assert read["tools"][0]["self_hosted"] is True


def test_compare_prices_a_readers_volumes_first(run_command, models):
    read = json.loads(
        run_command("compare", "sonnet", "haiku", "--json", "--input", "1M", "--output", "1M")
    )
    mine = read["workloads"][0]
    # 1M + 1M: Sonnet 3 + 15 = 18; Haiku 0.80 + 4 = 4.80.
    assert mine["name"] == "Your volumes" and mine["monthly_cost"] == {"sonnet": 18.0, "haiku": 4.8}
    with pytest.raises(CommandError, match='Input tokens a month: "lots" is not a number'):
        run_command("compare", "sonnet", "haiku", "--input", "lots", "--output", "1M")


def test_compare_in_the_terminal_shows_prices_and_the_cheaper_tool(run_command, models):
    out = run_command("compare", "sonnet", "haiku")
    assert "Input      $3 per 1M tokens" in out
    assert "Pricing page, " in out
    assert "Chat app — 20,000,000 in + 5,000,000 out tokens" in out
    assert "→ Haiku: $99.00 a month less, 3.8× cheaper" in out
