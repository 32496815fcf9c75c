"""Readers browsing while others vote: page-cache hits with per-tool stamps vs one site stamp.

Run: .venv/bin/python bench/web_cache_by_tool.py [--tools 200] [--rounds 150] [--reads 10]

Each round casts one vote on a random tool (through `vote_cast`, which touches that tool's
stamp), then reads `--reads` random pages: tool pages, comparison pages, category pages and
the home page, through the test client and the page cache (locmem, no memo). Baseline, same
run and same sequence of votes and reads: every touch bumps one site-wide stamp, as before
caching by tool. Prints the share of reads served from the cache and the time per read.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

HOME = tempfile.mkdtemp(prefix="shipwith-bench-cache-")
os.environ["SHIPWITH_HOME"] = HOME
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipwith.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from web_data import populate  # noqa: E402

from shipwith.comparisons.services import comparisons_publish  # noqa: E402
from shipwith.core import freshness  # noqa: E402
from shipwith.votes import services as votes  # noqa: E402
from shipwith.web import caching  # noqa: E402


def site_wide_touch(*tool_ids: int, lists: bool = True) -> None:
    """The scheme before caching by tool: any write re-renders every page."""
    freshness.site_touch()


def pages(tools, comparisons) -> list[str]:
    urls = [f"/tools/{tool.slug}/" for tool in tools]
    urls += [f"/compare/{comparison.slug}/" for comparison in comparisons]
    urls += sorted({f"/categories/{tool.category.slug}/" for tool in tools}) + ["/"]
    return urls


def run(client, urls, tools, voters, *, rounds: int, reads: int, seed: int) -> tuple[int, float]:
    """Return (reads served without a query, seconds spent reading)."""
    chance = random.Random(seed)
    hits, spent, queries = 0, 0.0, []

    def count(execute, sql, params, many, context):
        queries.append(1)
        return execute(sql, params, many, context)

    for _ in range(rounds):
        votes.vote_cast(
            voter_id=chance.choice(voters),
            tool_id=chance.choice(tools).pk,
            value=chance.choice(["ship", "skip"]),
        )
        for url in chance.choices(urls, k=reads):
            queries.clear()
            with connection.execute_wrapper(count):
                started = time.perf_counter()
                response = client.get(url)
                spent += time.perf_counter() - started
            assert response.status_code == 200, url
            hits += not queries
    return hits, spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=150)
    parser.add_argument("--reads", type=int, default=10)
    args = parser.parse_args()
    settings.SHIPWITH_FRESHNESS_MEMO_SECONDS = 0  # every read checks the stamps
    settings.SHIPWITH_VOTES_DAILY_CAP = 10**9
    settings.CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},  # no culling: every page and stamp stays
    }
    call_command("migrate", verbosity=0)
    tools = populate(args.tools)
    comparisons_publish()
    from shipwith.comparisons.models import Comparison

    pairs = Comparison.objects.published().select_related("tool_a", "tool_b")
    urls = pages(tools, list(pairs))
    client = Client(HTTP_HOST="127.0.0.1")

    results = {}
    for name, touch in [("by tool", freshness.tools_touch), ("site-wide", site_wide_touch)]:
        votes.tools_touch = touch  # what vote_cast calls on commit
        voters = [votes.voter_create().pk for _ in range(50)]  # new voters: every vote counts
        cache.clear()
        caching._local.clear()
        for url in urls:  # every page warm before the first vote
            client.get(url)
        results[name] = run(
            client, urls, tools, voters, rounds=args.rounds, reads=args.reads, seed=11
        )
    total = args.rounds * args.reads
    print(f"{args.tools} tools, {len(urls)} pages; {args.rounds} votes, {total} reads")
    for name, (hits, spent) in results.items():
        print(
            f"{name:>9}: {hits / total:6.1%} of reads from the cache, "
            f"{spent / total * 1000:.2f} ms per read"
        )
    (ours_hits, ours_spent), (base_hits, base_spent) = results["by tool"], results["site-wide"]
    ours_renders, base_renders = (
        (total - ours_hits) / args.rounds,
        (total - base_hits) / args.rounds,
    )
    print(f"pages re-rendered per vote: by tool {ours_renders:.1f}, site-wide {base_renders:.1f}")
    print(f"renders, site-wide / by tool: {base_renders / max(ours_renders, 1e-9):.2f}x")
    print(f"time per read, site-wide / by tool: {base_spent / ours_spent:.2f}x faster")


if __name__ == "__main__":
    main()
