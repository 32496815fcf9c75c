"""The read endpoints as an integrator sees them: figures, filters, pages, details, changes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.comparisons.models import Comparison
from shipwith.core.freshness import tools_touch
from shipwith.votes.models import Rating, RatingFit, ToolTally
from tests.factories import make_personas, make_review, make_tool

pytestmark = pytest.mark.django_db


def slugs(body: dict) -> list[str]:
    return [item["slug"] for item in body["items"]]


def test_inference_servers_are_listed_with_their_figures(client, catalog):
    ToolTally.objects.create(tool=catalog["vllm"], ships=9, skips=3)
    response = client.get("/api/v1/tools?category=inference-servers")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and body["next"] is None
    assert slugs(body) == ["ollama", "tgi", "vllm"]
    by_slug = {item["slug"]: item for item in body["items"]}
    vllm = by_slug["vllm"]
    assert vllm["panel"] == {
        "complete": True,
        "draft": False,
        "ships": 4,
        "completed": 4,
        "seats": 4,
        "ship_percent": 100,
        "label": "100% ship (4 of 4)",
    }
    assert vllm["community"]["percent"] == 75
    assert vllm["community"]["votes"] == 12
    low, high = vllm["community"]["interval"]
    assert low < 75 < high
    assert vllm["entry_price"]["label"] == "Free"
    assert vllm["category"] == {"slug": "inference-servers", "name": "Inference servers"}
    assert vllm["url"] == "http://shipwith.test/tools/vllm/"
    tgi = by_slug["tgi"]
    assert tgi["panel"]["complete"] is False and tgi["panel"]["ship_percent"] is None
    assert tgi["panel"]["label"] == "2 of 4 reviews: incomplete"
    assert tgi["community"] == {
        "shown": False,
        "ships": 0,
        "skips": 0,
        "votes": 0,
        "percent": None,
        "interval": None,
        "votes_needed": 10,
        "disagrees_with_panel": False,
    }
    assert tgi["entry_price"]["label"] == "Contact sales"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("licence_kind=proprietary", ["tgi"]),
        ("deployment=both", ["ollama"]),
        ("price_kind=amount", ["qdrant"]),
        ("panel=ship", ["vllm"]),
        ("panel=skip", ["qdrant"]),
        ("panel=split", ["ollama"]),
        ("panel=incomplete", ["tgi"]),
        ("q=fast+serving", ["vllm"]),
        ("q=nothing-matches-this", []),
        ("category=inference-servers&panel=incomplete", ["tgi"]),
    ],
)
def test_filters(client, catalog, query, expected):
    body = client.get(f"/api/v1/tools?{query}").json()
    assert slugs(body) == expected
    assert body["count"] == len(expected)


def test_a_search_matching_several_tags_lists_the_tool_once(client, catalog):
    from shipwith.catalog.models import Tag

    for name in ("fast", "serving"):
        catalog["vllm"].tags.add(Tag.objects.create(name=name))
    body = client.get("/api/v1/tools?q=fast serving").json()
    assert slugs(body) == ["vllm"]


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("category=no-such-category", "query.category"),
        ("licence_kind=gratis", "query.licence_kind"),
        ("panel=maybe", "query.panel"),
        ("limit=0", "query.limit"),
        ("limit=101", "query.limit"),
        ("limit=ten", "query.limit"),
        ("q=nul%00byte", "query.q"),
        ("category=nul%00byte", "query.category"),
        ("after=nul%00byte", "query.after"),
    ],
)
def test_bad_filters_say_what_and_where(client, catalog, query, where):
    response = client.get(f"/api/v1/tools?{query}")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["status"] == 422 and error["code"] == "invalid"
    assert [d["where"] for d in error["details"]] == [where]
    assert where in error["message"]


def test_pages_walk_every_tool_once_in_a_stable_order(client, catalog):
    seen, url = [], "/api/v1/tools?limit=2"
    while url:
        body = client.get(url.removeprefix("http://shipwith.test")).json()
        seen += slugs(body)
        url = body["next"]
        if len(seen) == 2:
            # A tool added mid-walk before the cursor is neither repeated nor shifts the rest.
            make_tool("aaa-new")
    assert seen == ["ollama", "qdrant", "tgi", "vllm"]


def test_a_tool_in_full(client, catalog):
    vllm = catalog["vllm"]
    skeptic = make_personas()[1]
    make_review(
        vllm,
        skeptic,
        "skip",
        key_risk="Memory-bound at long context",
        alternate_for="openai:gpt-4o is made by this tool's vendor",
    )
    body = client.get("/api/v1/tools/vllm").json()
    assert body["slug"] == "vllm" and body["panel"]["ships"] == 3
    reviews = {review["persona"]: review for review in body["reviews"]}
    assert list(reviews) == ["builder", "skeptic", "futurist", "operator"]
    skeptic_now = reviews["skeptic"]
    assert skeptic_now["verdict"] == "skip" and skeptic_now["flipped"] is True
    assert skeptic_now["previous_verdict"] == "ship" and skeptic_now["version"] == 2
    assert skeptic_now["key_risk"] == "Memory-bound at long context"
    assert skeptic_now["model"] == {
        "provider": "openai",
        "model_id": "gpt-4o-mini",
        "low_capability": False,
    }
    assert skeptic_now["alternate_for"] == "openai:gpt-4o is made by this tool's vendor"
    assert reviews["builder"]["alternate_for"] is None
    assert reviews["builder"]["evidence_quotes"] == ["serves models over HTTP"]
    assert [(h["persona"], h["verdict"], h["version"]) for h in body["verdict_history"]] == [
        ("skeptic", "ship", 1)
    ]
    assert body["sources"] == [
        {"url": "https://example.com/docs", "title": "Docs", "checked_on": "2026-11-01"}
    ]


def test_each_quote_links_the_source_it_was_found_in(client, catalog):
    start = timezone.now()
    vllm, builder = catalog["vllm"], make_personas()[0]
    docs = vllm.sources.get()
    make_review(vllm, builder, evidence_quotes=["batches requests"], evidence_sources=[docs.pk])
    make_review(
        vllm,
        builder,
        evidence_quotes=["pages attention", "serves models over HTTP"],
        evidence_sources=[docs.pk, None],  # the second is in the catalog entry itself
    )
    found_in_docs = {"url": "https://example.com/docs", "title": "Docs", "checked_on": "2026-11-01"}
    now = [
        {"quote": "pages attention", "source": found_in_docs, "source_removed": False},
        {"quote": "serves models over HTTP", "source": None, "source_removed": False},
    ]
    earlier = [{"quote": "batches requests", "source": found_in_docs, "source_removed": False}]
    first = [{"quote": "serves models over HTTP", "source": None, "source_removed": False}]

    tool = client.get("/api/v1/tools/vllm").json()
    (current,) = [r for r in tool["reviews"] if r["persona"] == "builder"]
    assert current["evidence"] == now
    assert current["evidence_quotes"] == ["pages attention", "serves models over HTTP"]
    history = [r["evidence"] for r in tool["verdict_history"] if r["persona"] == "builder"]
    assert history == [earlier, first]

    pair = client.get("/api/v1/comparisons/ollama-vs-vllm").json()
    assert [r["evidence"] for r in pair["reviews_b"] if r["persona"] == "builder"] == [now]
    assert all(r["evidence"] == [] for r in pair["reviews_a"])

    since = start.isoformat().replace("+", "%2B")
    changes = client.get(f"/api/v1/changes?since={since}").json()["items"]
    assert [c["review"]["evidence"] for c in changes] == [earlier, now]

    # A source removed later: its quotes say so, never that the catalog entry holds them.
    docs.delete()
    tools_touch(vllm.pk)  # as the catalog admin does on a delete
    tool = client.get("/api/v1/tools/vllm").json()
    (current,) = [r for r in tool["reviews"] if r["persona"] == "builder"]
    assert current["evidence"] == [
        {"quote": "pages attention", "source": None, "source_removed": True},
        {"quote": "serves models over HTTP", "source": None, "source_removed": False},
    ]


def test_a_slug_no_tool_can_have_is_refused_where_it_is(client, catalog):
    response = client.get("/api/v1/tools/vl%00lm")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["where"] == "path.slug"


def test_an_unknown_tool_is_a_404_in_the_error_shape(client, catalog):
    response = client.get("/api/v1/tools/nope")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "status": 404,
            "code": "not_found",
            "message": "No tool 'nope'.",
            "details": [],
        }
    }


def test_a_comparison_with_the_pick_and_the_other_order_redirects(client, catalog):
    response = client.get("/api/v1/comparisons/vllm-vs-ollama")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/comparisons/ollama-vs-vllm"
    body = client.get(response["Location"]).json()
    assert body["slug"] == "ollama-vs-vllm"
    assert body["pick"]["step"] == "panel" and body["pick"]["winner"] == "vllm"
    assert "4 of 4" in body["pick"]["reason"]
    assert [(row["persona"], row["state"]) for row in body["split"]] == [
        ("builder", "agree"),
        ("skeptic", "agree"),
        ("futurist", "split"),
        ("operator", "split"),
    ]
    assert body["agree"] == 2 and body["splits"] == 2
    assert [side["tool"] for side in body["pricing"]] == ["ollama", "vllm"]
    assert body["pricing"][0]["deployment"] == "both"
    assert body["reviews_a"][0]["competitors"] == ["vLLM"]


def test_published_comparisons_list_their_picks(client, catalog):
    Comparison.objects.create(
        tool_a=catalog["ollama"], tool_b=catalog["vllm"], published_at=timezone.now()
    )
    Comparison.objects.create(tool_a=catalog["tgi"], tool_b=catalog["vllm"])  # not published
    body = client.get("/api/v1/comparisons").json()
    assert body["count"] == 1
    (item,) = body["items"]
    assert item["slug"] == "ollama-vs-vllm" and item["pick"]["winner"] == "vllm"
    assert client.get("/api/v1/comparisons?tool=tgi").json()["count"] == 0
    detail = client.get("/api/v1/tools/vllm").json()
    assert detail["comparisons"] == ["http://shipwith.test/api/v1/comparisons/ollama-vs-vllm"]


def test_comparisons_page_past_a_slug_that_contains_the_separator(client, catalog):
    odd = make_tool("a-vs-b", category=catalog["vllm"].category)
    for tool_a, tool_b in [(odd, catalog["ollama"]), (odd, catalog["vllm"])]:
        Comparison.objects.create(tool_a=tool_a, tool_b=tool_b, published_at=timezone.now())
    first = client.get("/api/v1/comparisons?limit=1").json()
    assert first["items"][0]["slug"] == "a-vs-b-vs-ollama"
    second = client.get(first["next"].removeprefix("http://shipwith.test")).json()
    assert [item["slug"] for item in second["items"]] == ["a-vs-b-vs-vllm"]


def test_categories_count_their_tools(client, catalog):
    body = client.get("/api/v1/categories").json()
    assert [(c["slug"], c["tools"]) for c in body] == [
        ("inference-servers", 3),
        ("vector-stores", 1),
    ]


def test_leaderboard_ranks_with_intervals(client, catalog):
    assert client.get("/api/v1/leaderboard").json() == {
        "count": 0,
        "next": None,
        "fit": None,
        "items": [],
    }
    fit = RatingFit.objects.create(votes=120, tools=3, rounds=50, seconds=0.1)
    for rank, (slug, score) in enumerate([("vllm", 1100.0), ("ollama", 1000.0)], 1):
        Rating.objects.create(
            fit=fit,
            tool=catalog[slug],
            score=score,
            lower=score - 40,
            upper=score + 40,
            votes=60,
            rank=rank,
            category_rank=rank,
        )
    tools_touch()
    body = client.get("/api/v1/leaderboard?limit=1").json()
    assert body["fit"]["votes"] == 120 and body["count"] == 2
    assert [(r["rank"], r["tool"]["slug"], r["lower"], r["upper"]) for r in body["items"]] == [
        (1, "vllm", 1060.0, 1140.0)
    ]
    second = client.get(body["next"].removeprefix("http://shipwith.test")).json()
    assert [r["tool"]["slug"] for r in second["items"]] == ["ollama"]
    assert second["next"] is None


def test_changes_since_a_time_page_through_new_tools_reviews_and_flips(client, catalog):
    start = timezone.now()
    newcomer = make_tool("newcomer")
    builder = make_personas()[0]
    make_review(catalog["qdrant"], builder, "skip")  # flips the builder's ship
    make_review(newcomer, builder, "ship")
    seen, url = [], f"/api/v1/changes?since={start.isoformat()}&limit=2"
    url = url.replace("+", "%2B")
    while url:
        body = client.get(url.removeprefix("http://shipwith.test")).json()
        seen += [(c["kind"], c["tool"]["slug"]) for c in body["items"]]
        url = body["next"]
    assert seen == [
        ("tool", "newcomer"),
        ("verdict_flip", "qdrant"),
        ("review", "newcomer"),
    ]
    later = (timezone.now() + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert client.get(f"/api/v1/changes?since={later}").json()["items"] == []
    # Any offset Python reads is the same moment in UTC (PostgreSQL refuses beyond ±16 h).
    far = client.get("/api/v1/changes?since=2000-01-01T00:00:00-20:30").json()
    assert len(far["items"]) >= 3


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("", "query.since"),
        ("since=yesterday", "query.since"),
        ("since=9999-12-31T23:59:59-23:00", "query.since"),
        ("since=2026-01-01&after=x", "query.after"),
    ],
)
def test_changes_need_a_time(client, catalog, query, where):
    response = client.get(f"/api/v1/changes?{query}")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["where"] == where


def test_the_listing_follows_catalog_changes(client, catalog):
    before = client.get("/api/v1/tools?panel=incomplete").json()
    assert slugs(before) == ["tgi"]
    Tool.objects.filter(slug="tgi").delete()
    tools_touch()
    assert slugs(client.get("/api/v1/tools?panel=incomplete").json()) == []


def test_price_history_shows_as_it_is_kept(client, catalog):
    from datetime import timedelta

    from shipwith.catalog.readings import facts_record

    for price, days in [("0.15", 2), ("0.2", 0)]:
        facts_record(
            tool_id=catalog["qdrant"].pk,
            source_url="https://qdrant.example/pricing",
            source_title="Qdrant pricing",
            read_at=timezone.now() - timedelta(days=days),
            values={"input_price_per_mtok": price},
        )
    latest, first = client.get("/api/v1/tools/qdrant").json()["price_history"]
    assert latest["text"] == "$0.15 → $0.20 per 1M input tokens"
    assert latest["field"] == "input_price_per_mtok" and latest["unit"] == "1M input tokens"
    assert latest["source"] == "Qdrant pricing https://qdrant.example/pricing"
    assert first["text"] == "no price → $0.15 per 1M input tokens"
