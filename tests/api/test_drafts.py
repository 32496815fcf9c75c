"""The API says `draft: true` for a panel with a take by the embedded model, and gives no figure."""

import pytest
from django.utils import timezone

from shipwith.comparisons.models import Comparison
from shipwith.core.freshness import tools_touch
from tests.factories import make_panel, make_tool

pytestmark = pytest.mark.django_db

EMBEDDED = {"provider": "local", "model_id": "SmolLM2-135M-Instruct.Q4_1.gguf"}


@pytest.fixture
def drafted(catalog):
    llama = make_tool("code-llama", category=catalog["vllm"].category, name="Code Llama")
    make_panel(llama, "sskk", **EMBEDDED)
    Comparison.objects.create(tool_a=llama, tool_b=catalog["vllm"], published_at=timezone.now())
    return llama


def test_a_draft_tool_has_no_headline_figure_and_keeps_its_takes(client, drafted):
    body = client.get("/api/v1/tools/code-llama").json()
    assert body["panel"] == {
        "complete": True,
        "draft": True,
        "ships": None,
        "completed": 4,
        "seats": 4,
        "ship_percent": None,
        "label": "draft, no verdict: 4 of 4 takes by the embedded model",
    }
    assert [review["verdict"] for review in body["reviews"]] == ["ship", "ship", "skip", "skip"]
    assert all(review["model"]["low_capability"] for review in body["reviews"])


def test_the_tool_list_marks_drafts_and_its_panel_filters_tell_them_apart(client, drafted):
    items = {item["slug"]: item for item in client.get("/api/v1/tools?limit=100").json()["items"]}
    assert items["code-llama"]["panel"]["draft"] is True
    assert items["code-llama"]["panel"]["ship_percent"] is None
    assert (
        items["vllm"]["panel"]["draft"] is False and items["vllm"]["panel"]["ship_percent"] == 100
    )

    def listed(state: str) -> list[str]:
        return [item["slug"] for item in client.get(f"/api/v1/tools?panel={state}").json()["items"]]

    assert listed("draft") == ["code-llama"]
    assert "code-llama" not in listed("split") + listed("ship") + listed("skip")


def test_a_comparison_with_a_draft_has_no_pick(client, drafted):
    body = client.get("/api/v1/comparisons/code-llama-vs-vllm").json()
    assert body["pick"]["step"] == "draft" and body["pick"]["winner"] is None
    assert body["a"]["panel"]["draft"] is True and body["a"]["panel"]["ship_percent"] is None
    assert [review["verdict"] for review in body["reviews_a"]] == ["ship", "ship", "skip", "skip"]
    (item,) = client.get("/api/v1/comparisons?tool=code-llama").json()["items"]
    assert item["pick"]["step"] == "draft"


def test_a_capable_models_review_gives_the_figure_and_keeps_the_draft_in_history(client, drafted):
    make_panel(drafted, "ssks")
    tools_touch(drafted.pk)
    body = client.get("/api/v1/tools/code-llama").json()
    assert body["panel"]["draft"] is False and body["panel"]["ship_percent"] == 75
    assert body["panel"]["label"] == "75% ship (3 of 4)"
    history = body["verdict_history"]
    assert len(history) == 4 and all(review["model"]["low_capability"] for review in history)


def test_the_schema_describes_draft(client):
    schema = client.get("/api/v1/openapi.json").json()
    panel = schema["components"]["schemas"]["Panel"]["properties"]
    assert "draft" in panel and "draft" in panel["draft"]["description"]
