"""Every page renders in the same number of SQL queries whatever the number of tools/reviews."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shipwith.catalog.models import Tool
from shipwith.web import caching
from shipwith.web.models import Comparison
from shipwith.web.services import comparisons_publish
from tests.web.factories import (
    add_source,
    add_tier,
    make_panel,
    make_personas,
    make_review,
    make_tool,
)

pytestmark = pytest.mark.django_db

URLS = [
    "/",
    "/tools/alpha/",
    "/compare/alpha-vs-beta/",
    "/categories/inference-servers/",
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
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts[url] = len(captured)
    return counts


def grow(extra_tools: int, versions: int) -> None:
    """Add tools with panels, re-run reviews, tiers and sources, and publish comparisons."""
    personas = make_personas()
    for tool in [make_tool(f"more-{n}") for n in range(extra_tools)]:
        make_panel(tool, "sksk")
        add_tier(tool)
        add_source(tool)
    for slug in ("alpha", "beta"):
        tool = Tool.objects.get(slug=slug)
        add_tier(tool, "Pro", 99)
        add_source(tool, "https://example.com/more")
        for _ in range(versions):
            for persona in personas:
                make_review(tool, persona, "skip")
    comparisons_publish()
    Comparison.objects.get_or_create(
        tool_a=Tool.objects.get(slug="alpha"), tool_b=Tool.objects.get(slug="beta")
    )


def test_query_counts_do_not_grow_with_the_catalog(client):
    alpha, beta = make_tool("alpha"), make_tool("beta")
    make_panel(alpha, "sssk")
    make_panel(beta, "ss")
    comparisons_publish()
    small = cold_counts(client)
    grow(extra_tools=25, versions=3)
    large = cold_counts(client)
    assert large == small
    assert small["/compare/alpha-vs-beta/"] <= 12
