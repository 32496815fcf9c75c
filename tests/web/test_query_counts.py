"""Every page renders in the same number of SQL queries whatever the number of tools/reviews."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shipwith.catalog.models import Source, Tool
from shipwith.comparisons.models import Comparison
from shipwith.comparisons.services import comparisons_publish
from shipwith.panel.models import PanelRun, Seat, SeatStatus
from shipwith.web import caching
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
    "/",
    "/tools/alpha/",
    "/compare/alpha-vs-beta/",
    "/compare/alpha-vs-beta/?input=20M&output=5M",
    "/categories/inference-servers/",
    "/categories/inference-servers/facts/",
    "/categories/inference-servers/facts/?sort=-licence",
    "/search/?q=serves",
    "/methodology/",
    "/feeds/comparisons.atom",
    "/feeds/verdicts.atom",
    "/tools/alpha/badge.svg",
]


def cold_counts(client) -> dict[str, int]:
    counts = {}
    for url in URLS:
        cache.clear()
        caching._local.clear()
        stamps_age()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        # Reads of the freshness stamps (core_stamp) apart: at most a few, however many tools.
        stamps = stamp_reads(captured)
        assert stamps <= 3, (url, stamps)
        counts[url] = len(captured) - stamps
    return counts


def evidence(tool: Tool, *competitors: str) -> dict:
    """Review fields that pages resolve: competitors to tool pages, quotes to their sources."""
    source = add_source(tool, f"https://example.com/{tool.slug}/{Source.objects.count()}")
    return {
        "competitors": list(competitors),
        "key_risk": "A risk.",
        "claim_to_pressure": "A claim.",
        "evidence_quotes": ["serves models over HTTP", "with batching"],
        "evidence_sources": [source.pk, None],
        "dropped_quotes": ["made up"],
    }


def fail_a_seat(tool: Tool, status: str = SeatStatus.FAILED) -> None:
    run = PanelRun.objects.create(tool=tool, status="incomplete")
    persona = make_personas()[3]
    Seat.objects.create(run=run, persona=persona, status=status, error="server error 500")


def grow(extra_tools: int, versions: int) -> None:
    """Add tools with panels, re-run reviews, tiers and sources, and publish comparisons."""
    personas = make_personas()
    for n, tool in enumerate([make_tool(f"more-{n}") for n in range(extra_tools)]):
        make_panel(tool, "sksk", **evidence(tool, "Alpha", f"More {n + 1}", "Unknown"))
        add_tier(tool)
        fail_a_seat(tool)
        add_facts(tool)  # 20 facts each: ten keys from two sources that disagree on one
    for slug in ("alpha", "beta"):
        tool = Tool.objects.get(slug=slug)
        add_tier(tool, "Pro", 99)
        add_facts(tool, sources=3)
        fail_a_seat(tool, SeatStatus.RECUSED)
        for n in range(versions):
            for persona in personas:
                names = ["Beta", "Alpha", *[f"More {k}" for k in range(n * 3, n * 3 + 3)]]
                make_review(tool, persona, "skip", **evidence(tool, *names))
    comparisons_publish()
    Comparison.objects.get_or_create(
        tool_a=Tool.objects.get(slug="alpha"), tool_b=Tool.objects.get(slug="beta")
    )


def test_query_counts_do_not_grow_with_the_catalog(client):
    alpha, beta = make_tool("alpha"), make_tool("beta")
    make_panel(alpha, "sssk", **evidence(alpha, "Beta", "Unknown"))
    make_panel(beta, "ss", **evidence(beta, "alpha"))
    fail_a_seat(beta)
    # Two verdicts (alpha's and gamma's): the comparisons feed lists a pair from the start.
    make_panel(make_tool("gamma"), "skss")
    add_facts(alpha, sources=1, changed=False)
    add_facts(beta, sources=1)
    comparisons_publish()
    small = cold_counts(client)
    grow(extra_tools=25, versions=3)
    large = cold_counts(client)
    assert large == small
    assert small["/compare/alpha-vs-beta/"] <= 12
