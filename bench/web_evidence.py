"""What the evidence on a tool page costs: quotes with sources, competitors linked by name/alias.

Run: .venv/bin/python bench/web_evidence.py [--tools 10000] [--runs 30] [--alias-share 1.0]

A SQLite catalog of N tools, each (or a share: --alias-share) with two aliases; one tool has
four current takes, each naming five competitors (three in the catalog, one of them by an
alias) and three quotes with their sources. Measured in the same run, cold (page cache
emptied before each request):
1. the tool page with that evidence, against the same page whose takes carry none (baseline):
   the ratio is what showing the evidence costs;
2. linking the 20 competitor names in one query (ours), against one query per name.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import panel_common  # noqa: E402

EVIDENCE = {
    "key_risk": "Indexing cost grows with the monorepo.",
    "claim_to_pressure": "Retrieval beats every open-source alternative.",
    "evidence_quotes": [
        "indexes a repository in under a minute",
        "answers questions about it",
        "Benchtool indexes a repository",
    ],
    "dropped_quotes": ["a quote that is not there"],
}


def populate(count: int, alias_share: float) -> tuple[str, str]:
    from shipwith.catalog.models import Category, Source, Tool
    from shipwith.panel.models import Persona, Review

    category, _ = Category.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    Tool.objects.bulk_create(
        (
            Tool(
                name=f"Tool {i}",
                slug=f"tool-{i}",
                category=category,
                aliases=f"T{i}\nTool number {i}" if i % round(1 / alias_share) == 0 else "",
            )
            for i in range(count)
        ),
        batch_size=2000,
    )
    personas = list(Persona.objects.filter(active=True))
    pages = []
    for slug, with_evidence in (("tool-1", True), ("tool-2", False)):
        tool = Tool.objects.get(slug=slug)
        sources = [
            Source.objects.create(
                tool=tool, url=f"https://example.com/{slug}/{n}", snapshot=panel_common.SNAPSHOT
            )
            for n in range(3)
        ]
        for n, persona in enumerate(personas):
            names = [f"Tool {count - 1 - n}", f"T{n + 10}", f"Tool {n + 20}", "Nothing", "Nada"]
            fields = EVIDENCE | {
                "competitors": names,
                "evidence_sources": [source.pk for source in sources],
            }
            Review.objects.create(
                tool=tool,
                persona=persona,
                version=1,
                verdict="ship",
                take="A take of some length. " * 12,
                confidence=4,
                prompt_version=1,
                model_id="bench",
                provider="openai",
                **(fields if with_evidence else {}),
            )
        pages.append(f"/tools/{slug}/")
    return pages[0], pages[1]


def cold_get(client, url: str) -> tuple[float, int]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shipwith.web import caching

    cache.clear()
    caching._local.clear()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return elapsed, len(queries)


def per_name(names: set[str]) -> dict:
    """The baseline: one query per competitor name, the same matching rule."""
    from django.db.models import Q

    from shipwith.catalog.models import Tool

    found = {}
    for name in names:
        for tool in Tool.objects.filter(Q(name__iexact=name) | Q(aliases__icontains=name)):
            if name in {known.casefold() for known in [tool.name, *tool.alias_list]}:
                found[name] = tool
                break
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tools", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--alias-share", type=float, default=1.0, help="share of tools with aliases (0-1]"
    )
    options = parser.parse_args()
    os.environ["SHIPWITH_LLM"] = "openai:bench"
    panel_common.django_with_scratch_db()
    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    from shipwith.panel.models import Review
    from shipwith.web.selectors import _competitor_tools

    started = time.perf_counter()
    evidence_page, plain_page = populate(options.tools, options.alias_share)
    print(
        f"catalog of {options.tools:,} tools ({options.alias_share:.0%} with two aliases) built "
        f"in {time.perf_counter() - started:.1f} s"
    )
    client = Client()
    cold_get(client, evidence_page)  # warm imports and templates
    cold_get(client, plain_page)
    ours, baseline = [], []
    for _ in range(options.runs):  # interleaved, so load from other work hits both alike
        ours.append(cold_get(client, evidence_page))
        baseline.append(cold_get(client, plain_page))
    ours_ms = statistics.median(t for t, _ in ours) * 1000
    base_ms = statistics.median(t for t, _ in baseline) * 1000
    print(
        f"tool page, cold: with evidence {ours_ms:.1f} ms ({ours[0][1]} queries), "
        f"without {base_ms:.1f} ms ({baseline[0][1]} queries): {ours_ms / base_ms:.2f}x"
    )
    names = {
        name.casefold()
        for review in Review.objects.filter(tool__slug="tool-1")
        for name in review.competitors
    }
    one, many = [], []
    for _ in range(options.runs):
        started = time.perf_counter()
        linked = _competitor_tools(names)
        one.append(time.perf_counter() - started)
        started = time.perf_counter()
        naive = per_name(names)
        many.append(time.perf_counter() - started)
    assert set(linked) == {name.casefold() for name in naive}, (linked, naive)
    one_ms, many_ms = statistics.median(one) * 1000, statistics.median(many) * 1000
    print(
        f"linking {len(names)} competitor names ({len(linked)} in the catalog): one query "
        f"{one_ms:.2f} ms, one query per name {many_ms:.2f} ms: {many_ms / one_ms:.1f}x faster"
    )


if __name__ == "__main__":
    main()
