"""Every API read costs the same number of SQL queries whatever the catalog's size."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.comparisons.services import comparisons_publish
from shipwith.core import counters, limits
from shipwith.panel.models import Review
from shipwith.votes.models import Rating, RatingFit, ToolTally
from tests.api.conftest import forget
from tests.factories import (
    add_facts,
    add_source,
    add_tier,
    make_panel,
    make_personas,
    make_review,
    make_tool,
    stamp_reads,
    stamps_age,
)

pytestmark = pytest.mark.django_db

URLS = [
    "/api/v1/tools",
    "/api/v1/tools?category=inference-servers&panel=ship&q=serves",
    "/api/v1/tools/vllm",
    "/api/v1/tools/vllm/facts/history",
    "/api/v1/comparisons",
    "/api/v1/comparisons/ollama-vs-vllm",
    "/api/v1/categories",
    "/api/v1/leaderboard",
    "/api/v1/changes?since=2000-01-01T00:00:00Z",
]


def cold_counts(client) -> dict[str, int]:
    counts = {}
    for url in URLS:
        forget()
        counters._pruned_at = (
            time.time()
        )  # the once-a-minute prune of rate windows is not the page's
        limits._blocks.forget()  # each page claims its rate-limit hit the same way
        stamps_age()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        # Reads of the freshness stamps (core_stamp) apart: at most a few, however many tools.
        stamps = stamp_reads(captured)
        assert stamps <= 3, (url, stamps)
        counts[url] = len(captured) - stamps
    return counts


def rate(tools: list[Tool]) -> None:
    fit = RatingFit.objects.create(votes=10, tools=len(tools), rounds=1, seconds=0.1)
    Rating.objects.bulk_create(
        Rating(
            fit=fit,
            tool=t,
            score=1000 - n,
            lower=900 - n,
            upper=1100 - n,
            votes=5,
            rank=n + 1,
            category_rank=n + 1,
        )
        for n, t in enumerate(tools)
    )


def test_api_query_counts_do_not_grow_with_the_catalog(client, catalog):
    comparisons_publish()
    rate(list(Tool.objects.all()))
    vllm_docs = catalog["vllm"].sources.get()
    quoted = {"evidence_quotes": ["serves models"], "evidence_sources": [vllm_docs.pk]}
    Review.objects.filter(tool=catalog["vllm"]).update(**quoted)
    add_facts(catalog["vllm"], sources=1)
    add_facts(catalog["ollama"], sources=1, changed=False)
    small = cold_counts(client)
    personas = make_personas()
    for n in range(30):
        tool = make_tool(f"more-{n}", description="more serves models")
        docs = add_source(tool)
        make_panel(tool, "ssss", evidence_quotes=["more", "serves"], evidence_sources=[docs.pk])
        add_tier(tool)
        add_facts(tool)  # 20 facts each, and their changes for /changes
        ToolTally.objects.create(tool=tool, ships=8, skips=4)
    for _ in range(3):
        for persona in personas:
            make_review(Tool.objects.get(slug="vllm"), persona, "skip", **quoted)
    add_facts(catalog["vllm"], sources=3)
    comparisons_publish()
    Tool.objects.filter(slug__startswith="more-").update(created_at=timezone.now())
    rate(list(Tool.objects.all()))
    large = cold_counts(client)
    assert large == small
    # A tool: card, reviews, evidence, competitors, tiers and sources, facts and their history.
    assert max(small.values()) <= 15
