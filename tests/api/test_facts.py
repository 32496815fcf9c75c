"""Facts in the API: each with its source and date, their history, the priced workloads of a
comparison, and changed facts in /changes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shipwith.catalog.readings import facts_record
from shipwith.comparisons.services import comparisons_publish
from tests.factories import make_category, make_panel, make_tool

pytestmark = pytest.mark.django_db

OPENAI = "https://openai.com/api/pricing/"
OPENROUTER = "https://openrouter.ai/openai/gpt-4o-mini"


def record(tool, url: str, title: str, *, hours_ago: float, **values) -> None:
    facts_record(
        tool_id=tool.pk,
        source_url=url,
        source_title=title,
        read_at=timezone.now() - timedelta(hours=hours_ago),
        values=values,
    )


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def models(db):
    category = make_category("hosted-models", "Hosted models")
    mini = make_tool("gpt-4o-mini", name="GPT-4o mini", category=category, deployment="api")
    big = make_tool("gpt-4o", name="GPT-4o", category=category, deployment="api")
    make_panel(mini, "ssss")
    make_panel(big, "sssk")
    record(mini, OPENAI, "OpenAI pricing", hours_ago=48, input_price_per_mtok="0.15", output_price_per_mtok="0.60", context_window=128_000)  # fmt: skip
    record(mini, OPENAI, "OpenAI pricing", hours_ago=3, output_price_per_mtok="0.80")
    record(mini, OPENROUTER, "OpenRouter", hours_ago=5, output_price_per_mtok="0.60")
    record(big, OPENAI, "OpenAI pricing", hours_ago=3, input_price_per_mtok="2.50", output_price_per_mtok="10")  # fmt: skip
    comparisons_publish()
    return mini, big


def test_a_tool_carries_its_facts_with_source_date_and_conflicts(client, models):
    body = client.get("/api/v1/tools/gpt-4o-mini").json()
    facts = {fact["key"]: fact for fact in body["facts"]}
    assert list(facts) == ["input_price_per_mtok", "output_price_per_mtok", "context_window"]
    output = facts["output_price_per_mtok"]
    assert {"key", "value", "unit", "source", "read_at", "conflicts"} <= set(output)
    assert output["value"] == 0.8 and output["unit"] == "USD per 1M tokens"
    assert output["source"] == {"url": OPENAI, "title": "OpenAI pricing"}
    assert output["text"] == "$0.80 per 1M tokens" and output["stale"] is False
    (other,) = output["conflicts"]
    assert other["value"] == 0.6 and other["source"]["title"] == "OpenRouter"
    assert (
        facts["context_window"]["value"] == 128_000 and facts["context_window"]["conflicts"] == []
    )


def test_a_tools_fact_history_lists_each_change_newest_first(client, models):
    mini, _ = models
    history = client.get("/api/v1/tools/gpt-4o-mini/facts/history").json()
    assert [(row["key"], row["old"], row["new"]) for row in history] == [
        ("output_price_per_mtok", 0.6, 0.8),
        ("output_price_per_mtok", None, 0.6),  # OpenRouter's first reading
        ("context_window", None, 128000),  # OpenAI's first: three keys read at once
        ("output_price_per_mtok", None, 0.6),
        ("input_price_per_mtok", None, 0.15),
    ]
    change = history[0]
    assert {"key", "old", "new", "source", "read_at"} <= set(change)
    assert change["source"] == {"url": OPENAI, "title": "OpenAI pricing"}
    assert change["text"] == "$0.60 → $0.80 per 1M tokens"
    only = client.get("/api/v1/tools/gpt-4o-mini/facts/history?key=context_window&limit=5")
    assert [row["new"] for row in only.json()] == [128000]


def test_the_fact_history_refuses_an_unknown_key_or_tool(client, models):
    response = client.get("/api/v1/tools/gpt-4o-mini/facts/history?key=vibes")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["where"] == "query.key"
    assert client.get("/api/v1/tools/nothing/facts/history").status_code == 404


def test_a_comparison_prices_the_workloads_for_both_tools(client, models):
    body = client.get("/api/v1/comparisons/gpt-4o-vs-gpt-4o-mini").json()
    chat = body["workloads"][0]
    # Chat app, 20M in + 5M out: GPT-4o 20 × 2.50 + 5 × 10 = 100; mini 20 × 0.15 + 5 × 0.80 = 7.
    assert chat["name"] == "Chat app"
    assert chat["monthly_cost"] == {"gpt-4o": 100.0, "gpt-4o-mini": 7.0}
    assert chat["cheaper"] == "gpt-4o-mini" and chat["saving"] == 93.0
    assert [side["tool"] for side in body["pricing"]] == ["gpt-4o", "gpt-4o-mini"]
    assert body["pricing"][1]["facts"][1]["value"] == 0.8


def test_changes_carry_a_changed_fact_in_one_sentence(client, models):
    since = iso(timezone.now() - timedelta(days=3))
    items = client.get(f"/api/v1/changes?since={since}").json()["items"]
    facts = [item for item in items if item["kind"] == "fact_change"]
    (change,) = facts  # first readings are no news
    assert change["tool"] == {"slug": "gpt-4o-mini", "name": "GPT-4o mini"}
    assert change["fact"]["summary"] == "GPT-4o mini: output price $0.60 → $0.80 per 1M tokens"
    assert (change["fact"]["old"], change["fact"]["new"]) == (0.6, 0.8)
    assert change["review"] is None
    assert all(item["fact"] is None for item in items if item["kind"] != "fact_change")


def test_changes_page_through_facts_reviews_and_tools_in_one_order(client, models):
    mini, _ = models
    for hours in (2.5, 2, 1.5, 1):
        record(mini, OPENROUTER, "OpenRouter", hours_ago=hours, output_price_per_mtok=f"{hours}")
    since = iso(timezone.now() - timedelta(days=3))
    everything = client.get(f"/api/v1/changes?since={since}&limit=100").json()["items"]
    paged, url = [], f"/api/v1/changes?since={since}&limit=3"
    while url:
        body = client.get(url.removeprefix("http://shipwith.test")).json()
        paged += body["items"]
        url = body["next"]
    assert paged == everything
    assert sum(item["kind"] == "fact_change" for item in paged) == 5
    ats = [item["at"] for item in paged]
    assert ats == sorted(ats)


def test_the_schema_grows_without_breaking_clients(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/tools/{slug}/facts/history" in paths
    components = schema["components"]["schemas"]
    detail = components["ToolDetail"]
    assert "facts" in detail["properties"] and "facts" not in detail.get("required", [])
    assert "price_history" in detail["properties"]
    change = components["ChangeOut"]["properties"]
    assert "fact_change" in change["kind"]["enum"]
    assert "workloads" in components["ComparisonDetail"]["properties"]
