"""What a reader gets from each page: status codes, canonical URLs, figures, escaping."""

import json
import re

import pytest

from tests.factories import (
    add_source,
    add_tier,
    make_category,
    make_panel,
    make_personas,
    make_review,
    make_tool,
)

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("take")</script><img src=x onerror=alert(1)></script>'


@pytest.fixture
def pair():
    a = make_tool("sglang", name="SGLang")
    b = make_tool("vllm", name="vLLM", price_kind="amount", price_amount=20, price_period="month")
    add_tier(b, "Team", 40)
    add_source(a)
    make_panel(a, "sssk")
    make_panel(b, "sskk")
    return a, b


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/tools/sglang/",
        "/compare/sglang-vs-vllm/",
        "/categories/inference-servers/",
        "/search/?q=sglang",
        "/search/",
        "/methodology/",
        "/feeds/comparisons.atom",
        "/feeds/verdicts.atom",
        "/sitemap.xml",
        "/sitemap-tools.xml",
        "/tools/sglang/badge.svg",
    ],
)
def test_pages_answer(client, pair, url):
    response = client.get(url)
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers


@pytest.mark.parametrize(
    "url",
    [
        "/tools/nope/",
        "/tools/nope/badge.svg",
        "/compare/sglang-vs-nope/",
        "/compare/nope-vs-vllm/",
        "/compare/sglang-vs-sglang/",
        "/compare/sglang/",
        "/categories/nope/",
    ],
)
def test_unknown_things_are_404(client, pair, url):
    assert client.get(url).status_code == 404


def test_reversed_pair_redirects_permanently_to_canonical(client, pair):
    response = client.get("/compare/vllm-vs-sglang/")
    assert response.status_code == 301
    assert response["Location"] == "/compare/sglang-vs-vllm/"


def test_slugs_containing_vs_resolve(client):
    make_tool("a-vs-b", name="A-vs-B")
    make_tool("b-vs-c", name="B-vs-C")
    make_tool("c", name="C")
    assert client.get("/compare/a-vs-b-vs-b-vs-c/").status_code == 200
    assert client.get("/compare/b-vs-c-vs-a-vs-b/")["Location"] == "/compare/a-vs-b-vs-b-vs-c/"
    assert client.get("/compare/b-vs-c-vs-c/").status_code == 200


def test_post_is_refused(client, pair):
    assert client.post("/compare/sglang-vs-vllm/").status_code == 405


def test_tool_card_shows_panel_figure_with_count(client, pair):
    html = client.get("/tools/sglang/").content.decode()
    assert "75%" in html and "3 of 4" in html
    assert "Free" in html
    assert "checked on 1 Nov 2026" in html
    assert "openai:gpt-4o-mini" in html


def test_incomplete_panel_shows_count_and_no_percent(client):
    tool = make_tool("half")
    make_panel(tool, "ss")
    html = client.get("/tools/half/").content.decode()
    assert "2 of 4" in html and "incomplete" in html
    assert "100%" not in html and "50%" not in html


def test_verdict_history_shows_a_flip(client, pair):
    a, _ = pair
    make_review(a, make_personas()[0], "skip", take="Changed my mind.")
    html = client.get("/tools/sglang/").content.decode()
    assert "was Ship" in html
    assert "v1" in html and "Verdict history" in html


def test_local_model_takes_carry_the_low_value_note(client):
    tool = make_tool("tiny")
    make_panel(tool, "sksk", provider="local", model_id="SmolLM2-135M")
    html = client.get("/tools/tiny/").content.decode()
    assert "135M" in html and "SHIPWITH_LLM=openai:MODEL" in html and "OPENAI_BASE_URL" in html


def test_comparison_shows_split_pricing_and_pick(client, pair):
    html = client.get("/compare/sglang-vs-vllm/").content.decode()
    text = re.sub(r"\s+", " ", html)
    assert "Ship with <strong>SGLang</strong>" in text
    assert "3 of 4 reviewers against 2 of 4 for vLLM" in text
    assert "When vLLM wins instead" in text
    assert "$20/mo" in text and "Team: $40/mo" in text and "Apache-2.0" in text
    assert "agrees on 3 of 4 reviewers and splits on 1" in text
    assert "Split" in text and "Agrees: ship both" in text
    assert "How we pick" in text


def test_hostile_take_is_escaped_everywhere(client, pair):
    a, b = pair
    make_review(a, make_personas()[1], "skip", take=HOSTILE)
    for url in ["/tools/sglang/", "/compare/sglang-vs-vllm/", "/"]:
        html = client.get(url).content.decode()
        assert "<img src=x" not in html
        assert '<script>alert("take")' not in html
    html = client.get("/tools/sglang/").content.decode()
    assert "&lt;script&gt;alert(&quot;take&quot;)&lt;/script&gt;" in html
    feed = client.get("/feeds/verdicts.atom").content.decode()
    # Feeds carry the take as plain text: the markup is gone, not merely escaped once.
    assert "<img" not in feed and "onerror" not in feed and "alert" not in feed


def test_json_ld_cannot_be_closed_by_a_take(client, pair):
    a, _ = pair
    make_review(a, make_personas()[1], "skip", take=HOSTILE)
    html = client.get("/tools/sglang/").content.decode()
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    data = json.loads(blocks[0])
    assert data["@type"] == "SoftwareApplication"
    assert any(HOSTILE == review["reviewBody"] for review in data["review"])


def test_hostile_catalog_text_is_escaped(client):
    make_tool("evil", name="<b>Evil</b>", tagline="<script>x()</script>")
    html = client.get("/tools/evil/").content.decode()
    assert "<b>Evil</b>" not in html and "&lt;b&gt;Evil&lt;/b&gt;" in html
    assert "<script>x()" not in html


def test_search_with_control_characters_answers(client, pair):
    response = client.get("/search/?q=vl%00lm%01")
    assert response.status_code == 200
    assert "/tools/vllm/" in response.content.decode()


def test_a_source_that_is_not_a_web_page_is_never_a_link(client):
    tool = make_tool("odd")
    add_source(tool, url="javascript:alert(1)")
    add_source(tool, url="https://example.com/docs")
    html = client.get("/tools/odd/").content.decode()
    assert 'href="javascript:' not in html and "javascript:alert(1)" not in html
    assert 'href="https://example.com/docs"' in html


def test_open_graph_meta_on_tool_and_comparison(client, pair):
    tool = client.get("/tools/sglang/").content.decode()
    assert 'property="og:title" content="SGLang: should you ship with it?"' in tool
    assert 'name="twitter:card"' in tool
    compare = client.get("/compare/sglang-vs-vllm/").content.decode()
    assert 'property="og:url" content="http://127.0.0.1:8000/compare/sglang-vs-vllm/"' in compare


def test_csp_forbids_inline_script(client, pair):
    policy = client.get("/").headers["Content-Security-Policy"]
    script = next(p for p in policy.split("; ") if p.startswith("script-src"))
    assert script == "script-src 'self'"
    assert "unsafe-inline" not in script


def test_search_finds_by_name_tag_and_description(client, pair):
    make_tool("qdrant", name="Qdrant", category=make_category("vector", "Vector databases"))
    html = client.get("/search/?q=vllm").content.decode()
    assert "vLLM" in html and "Qdrant" not in html
    assert "1 tool found" in html
    assert "0 tools found" in client.get("/search/?q=zzzz").content.decode()
    escaped = client.get("/search/", {"q": "<script>"}).content.decode()
    assert "Tools matching “&lt;script&gt;”" in escaped and "“<script>”" not in escaped


def test_methodology_is_built_from_live_personas(client, pair):
    persona = make_personas()[2]
    persona.lens = "Bets with dates & <em>numbers</em>."
    persona.save()
    html = client.get("/methodology/").content.decode()
    assert "Futurist" in html and "Bets with dates &amp; &lt;em&gt;numbers&lt;/em&gt;." in html
    assert "openai:gpt-4o-mini" in html


@pytest.mark.parametrize(
    ("spec", "noted"), [("local", True), ("local:other.gguf", True), ("openai:gpt-4o", False)]
)
def test_methodology_notes_a_low_capability_default(client, settings, spec, noted):
    settings.SHIPWITH_LLM = spec
    html = client.get("/methodology/").content.decode()
    assert ("writes text of little value" in html) is noted


def test_badge_is_svg_with_cache_headers(client, pair):
    response = client.get("/tools/sglang/badge.svg")
    assert response["Content-Type"].startswith("image/svg+xml")
    assert "max-age=300" in response["Cache-Control"]
    assert response["ETag"]
    assert "75% ship · 3 of 4" in response.content.decode()


def test_feeds_are_atom(client, pair):
    response = client.get("/feeds/verdicts.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "Builder: ship SGLang" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/tools/sglang/",
        "/compare/sglang-vs-vllm/",
        "/categories/inference-servers/",
        "/search/?q=serves",
        "/methodology/",
    ],
)
def test_pages_parse_without_html_errors(client, pair, url):
    import html5lib

    a, _ = pair
    make_review(a, make_personas()[1], "skip", take=HOSTILE)
    parser = html5lib.HTMLParser(strict=False)
    parser.parse(client.get(url).content)
    assert parser.errors == []


def test_category_pages_are_paginated(client):
    for n in range(50):
        make_tool(f"server-{n:02d}")
    first = client.get("/categories/inference-servers/").content.decode()
    assert "Page 1 of 2 · 50 tools" in first
    assert "Server 47" in first and "Server 48" not in first
    second = client.get("/categories/inference-servers/?page=2").content.decode()
    assert "Server 49" in second and "Server 00" not in second


def test_badge_of_an_incomplete_panel_says_so(client):
    tool = make_tool("half")
    make_panel(tool, "ss")
    svg = client.get("/tools/half/badge.svg").content.decode()
    assert "incomplete · 2 of 4" in svg and "%" not in svg.split("<text")[-1]
