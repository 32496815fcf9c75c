"""A panel with a take by the embedded model is a draft: its takes show, never a ship figure.

Code Llama is reviewed by the embedded 135M model only (two ship, two skip: what used to read
"50% ship (2 of 4)"); vLLM and SGLang by a capable one.
"""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from shipwith.comparisons.models import Comparison
from shipwith.core.freshness import tools_touch
from shipwith.panel.models import Review
from tests.factories import make_panel, make_personas, make_review, make_tool

pytestmark = pytest.mark.django_db

EMBEDDED = {"provider": "local", "model_id": "SmolLM2-135M-Instruct.Q4_1.gguf"}
ATOM = "{http://www.w3.org/2005/Atom}"
HOW = "SHIPWITH_LLM=openai:MODEL"


@pytest.fixture
def drafted():
    llama = make_tool("code-llama", name="Code Llama")
    vllm = make_tool("vllm", name="vLLM")
    make_panel(llama, "sskk", **EMBEDDED)
    make_panel(vllm, "sssk")
    return llama, vllm


def card_of(html: str, name: str) -> str:
    """The card (or figures block) that names this tool."""
    (card,) = [c for c in html.split('<article class="card">')[1:] if f">{name}</a>" in c]
    return card.split("</article>")[0]


def tool_header(html: str) -> str:
    return html.split('<header class="tool-header">')[1].split("</header>")[0]


def entries(body: bytes) -> list[dict]:
    root = ET.fromstring(body)
    return [
        {
            "title": entry.findtext(f"{ATOM}title"),
            "summary": entry.findtext(f"{ATOM}summary"),
            "published": entry.findtext(f"{ATOM}published"),
        }
        for entry in root.iter(f"{ATOM}entry")
    ]


def capable_review(tool, verdicts: str) -> None:
    """A capable model reviews the tool (as `shipwith review` would, touching its pages)."""
    make_panel(tool, verdicts)
    tools_touch(tool.pk)


def test_a_draft_card_says_draft_without_a_figure(client, drafted):
    html = client.get("/categories/inference-servers/").content.decode()
    draft = card_of(html, "Code Llama")
    assert "Draft" in draft and "no verdict yet" in draft
    assert "%" not in draft and "2 of 4" not in draft
    assert "75%" in card_of(html, "vLLM")


def test_what_the_panel_ships_most_leaves_drafts_out(client, drafted):
    html = client.get("/").content.decode()
    shipped = html.split('id="shipped-heading"')[1].split("</section>")[0]
    assert "vLLM" in shipped and "75%" in shipped
    assert "Code Llama" not in shipped


def test_the_tool_page_shows_the_takes_and_says_once_how_to_get_a_verdict(client, drafted):
    html = client.get("/tools/code-llama/").content.decode()
    header = tool_header(html)
    assert "Draft" in header and "50%" not in header and "reviewers ship" not in header
    assert "% ship" not in html
    # The takes keep their verdicts, each marked as a draft take.
    assert html.count('class="take take-ship"') == 2 and html.count('class="take take-skip"') == 2
    assert html.count("A draft take") == 4
    # One note: what would turn it into a verdict, and how.
    assert html.count("is a draft, not a verdict") == 1
    assert html.count(HOW) == 1 and html.count("OPENAI_BASE_URL") == 1
    assert "shipwith review code-llama" in html


def test_a_capable_model_turns_the_draft_into_a_verdict_and_the_draft_stays_in_history(
    client, drafted
):
    llama, _ = drafted
    personas = make_personas()
    for persona in personas[:3]:  # one draft take left: still a draft
        make_review(llama, persona, "ship")
    tools_touch(llama.pk)
    html = client.get("/tools/code-llama/").content.decode()
    assert "is a draft, not a verdict" in html and "75%" not in html

    make_review(llama, personas[3], "skip")
    tools_touch(llama.pk)
    html = client.get("/tools/code-llama/").content.decode()
    header = tool_header(html)
    assert "75%" in header and "3 of 4 reviewers ship" in header
    assert "draft" not in header.lower() and HOW not in html
    history = html.split('id="history-heading"')[1].split("</section>")[0]
    assert history.count("local:SmolLM2-135M-Instruct.Q4_1.gguf") == 4
    assert history.count("(draft)") == 4
    assert Review.objects.filter(tool=llama, provider="local", is_current=False).count() == 4


def test_a_comparison_with_a_draft_has_no_pick_and_no_draft_figure(client, drafted):
    html = client.get("/compare/code-llama-vs-vllm/").content.decode()
    pick = html.split('id="pick-heading"')[1].split("</section>")[0]
    assert "No pick yet." in pick and "Code Llama is a draft" in pick
    assert "Ship with" not in pick
    panel = html.split('id="panel-heading"')[1].split("</section>")[0]
    assert "<strong>Draft</strong>" in panel and "<strong>75% ship</strong>" in panel
    assert "50%" not in html
    assert html.count("is a draft, not a verdict") == 1 and html.count(HOW) == 1
    assert "shipwith review code-llama</code>" in html


def test_a_draft_badge_says_draft_without_a_figure(client, drafted):
    svg = client.get("/tools/code-llama/badge.svg").content.decode()
    message = svg.split("<text")[-1]
    assert "draft" in message and "%" not in message and "of 4" not in message
    assert "% ship" not in svg
    assert "75% ship · 3 of 4" in client.get("/tools/vllm/badge.svg").content.decode()


def test_the_verdicts_feed_marks_draft_takes(client, drafted):
    found = entries(client.get("/feeds/verdicts.atom").content)
    drafts = [e for e in found if "Code Llama" in e["title"]]
    verdicts = [e for e in found if "vLLM" in e["title"]]
    assert len(drafts) == 4 and len(verdicts) == 4
    assert all(e["title"].endswith("(draft)") for e in drafts)
    assert all("draft take by the embedded model" in e["summary"] for e in drafts)
    assert not any("draft" in e["title"] + e["summary"] for e in verdicts)
    assert not any("%" in e["title"] + e["summary"] for e in found)


def test_the_comparisons_feed_carries_a_pair_once_both_panels_are_verdicts(client, drafted):
    llama, vllm = drafted
    sglang = make_tool("sglang", name="SGLang")
    half = make_tool("half", name="Half")
    make_panel(sglang, "sskk")
    make_panel(half, "ss")
    published = timezone.now() - dt.timedelta(days=30)
    for a, b in [(llama, vllm), (sglang, vllm), (half, vllm)]:
        Comparison.objects.create(tool_a=a, tool_b=b, published_at=published)
    # SGLang's panel was last completed after the comparison went up: that is its date.
    completed = published + dt.timedelta(days=2)
    Review.objects.filter(tool=sglang).update(created_at=completed - dt.timedelta(hours=1))
    Review.objects.filter(tool=sglang, persona__key="operator").update(created_at=completed)
    Review.objects.filter(tool=vllm).update(created_at=published - dt.timedelta(days=1))

    (entry,) = entries(client.get("/feeds/comparisons.atom").content)
    assert entry["title"] == "SGLang vs vLLM: which one should you ship with?"
    assert entry["summary"].startswith("Ship with vLLM. The panel ships vLLM with 3 of 4")
    assert dt.datetime.fromisoformat(entry["published"]) == completed

    capable_review(llama, "ssss")
    found = entries(client.get("/feeds/comparisons.atom").content)
    assert [e["title"].split(":")[0] for e in found] == ["Code Llama vs vLLM", "SGLang vs vLLM"]
    assert found[0]["summary"].startswith("Ship with Code Llama.")
    assert dt.datetime.fromisoformat(found[0]["published"]) > completed
    assert not any("Half" in e["title"] for e in found)


def test_no_draft_figure_on_any_page_of_a_draft(client, drafted):
    """Everywhere the panel figure used to show: no "50%" and no "2 of 4" ship count."""
    for url in [
        "/",
        "/tools/code-llama/",
        "/compare/code-llama-vs-vllm/",
        "/categories/inference-servers/",
        "/search/?q=llama",
        "/tools/code-llama/badge.svg",
        "/feeds/verdicts.atom",
        "/feeds/comparisons.atom",
    ]:
        body = client.get(url).content.decode()
        assert not re.search(r"50\s*%", body), url
