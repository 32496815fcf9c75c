"""10,000 feed items through parse → normalise → dedupe against a 10,000-tool catalog.

    .venv/bin/python bench/ingest_pipeline.py [--items 10000] [--tools 10000] [--runs 3]

The feeds are RSS 2.0 bytes built in memory (20 sources × 500 items by default: launch posts
naming tools, a quarter of them tools the catalog knows under another spelling). The path is
the production one: `FeedAdapter.items()` (feedparser, then every field normalised to plain
text into an `Item`) on a `Fetched` body, then `dedupe.Index.match` against an index of the
catalog built once (as `ingest_run` builds it). No network and no database writes: fetching
and storing are measured by the tests, not here.

Baseline, same run, same bytes: `feedparser.parse` alone with its default options. Goal: the
whole path ≤ 2× feedparser's time. Memory: tracemalloc peak while 2,500 / 5,000 / 10,000 items
go through (sources are read one after another, as a run does), which should stay flat.
"""

import argparse
import gc
import os
import random
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipwith.settings")

import django  # noqa: E402

django.setup()

import feedparser  # noqa: E402

from shipwith.ingest.adapters.feed import FeedAdapter  # noqa: E402
from shipwith.ingest.dedupe import Entry, Index  # noqa: E402
from shipwith.ingest.fetch import Fetched  # noqa: E402
from shipwith.ingest.items import Item  # noqa: E402

PER_FEED = 500
WORDS = (
    "vector quill relay forge beacon atlas nimbus ember pixel orbit lumen cinder harbor "
    "summit kernel prism vertex cobalt signal delta tensor falcon comet aurora sable "
    "meridian keystone lattice canopy ridge"
).split()
KINDS = ["DB", "Agent", "Studio", "Serve", "Eval", "Coder", "Chat", "Embed", "Router", "Guard"]
VENDORS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne"]


def tool_names(count: int, rng: random.Random) -> list[tuple[str, str]]:
    names, seen = [], set()
    while len(names) < count:
        name = f"{rng.choice(WORDS).title()}{rng.choice(WORDS)} {rng.choice(KINDS)}"
        if rng.random() < 0.4:
            name += f" {rng.randint(1, 9)}"
        if name not in seen:
            seen.add(name)
            names.append((name, rng.choice(VENDORS)))
    return names


def feed_bytes(index: int, titles: list[str], start: datetime) -> bytes:
    items = []
    for n, title in enumerate(titles):
        when = format_datetime(start - timedelta(minutes=n))
        items.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>https://blog{index}.example/posts/{n}</link>"
            f"<guid>https://blog{index}.example/posts/{n}</guid><pubDate>{when}</pubDate>"
            f"<description>{escape(title)} is out: &lt;b&gt;faster&lt;/b&gt; serving, "
            "a new API and lower prices for teams.</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Launch blog {index}</title><link>https://blog{index}.example/</link>"
        f"<description>Launches</description>{''.join(items)}</channel></rss>"
    ).encode()


def build(items: int, tools: int, seed: int = 7):
    rng = random.Random(seed)
    catalog = tool_names(tools, rng)
    known = {name.lower() for name, _ in catalog}
    fresh = [n for n in tool_names(items * 2, random.Random(seed + 1)) if n[0].lower() not in known]
    titles = []
    for n in range(items):
        if n % 4 == 0:  # a known tool, spelled as a post would: lower case, hyphens
            name, _ = catalog[rng.randrange(len(catalog))]
            titles.append(name.lower().replace(" ", "-"))
        else:
            titles.append(fresh[n][0])
    start = datetime(2026, 11, 30, tzinfo=UTC)
    feeds = [
        feed_bytes(i, titles[i * PER_FEED : (i + 1) * PER_FEED], start)
        for i in range((items + PER_FEED - 1) // PER_FEED)
    ]
    entries = [
        Entry(("tool", pk), [name], [vendor]) for pk, (name, vendor) in enumerate(catalog, 1)
    ]
    return feeds, entries


class _Bytes:
    """The adapter's Fetcher, answering with prepared bytes (the network is not measured)."""

    def __init__(self) -> None:
        self.body = b""

    def get(self, url: str, **kwargs) -> Fetched:
        return Fetched(
            url=url,
            final_url=url,
            status=200,
            content_type="application/rss+xml",
            body=self.body,
            fetched_at=datetime.now(UTC),
            charset="utf-8",
        )


def baseline(feeds: list[bytes]) -> int:
    return sum(len(feedparser.parse(body).entries) for body in feeds)


def baseline_lean(feeds: list[bytes]) -> int:
    """feedparser as the adapter calls it: no HTML sanitiser, no link rewriting."""
    return sum(
        len(feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False).entries)
        for body in feeds
    )


def path(feeds: list[bytes], index: Index) -> tuple[int, int]:
    fetcher = _Bytes()
    items = matched = 0
    for n, body in enumerate(feeds):
        fetcher.body = body
        adapter = FeedAdapter(url=f"https://blog{n}.example/feed", options={}, fetcher=fetcher)
        for item in adapter.items():
            if not isinstance(item, Item):
                continue
            items += 1
            ids = item.identifiers
            found = index.match(
                name=item.name, vendor=item.vendor, github=ids.github, domain=ids.domain
            )
            matched += found is not None
    return items, matched


def rounds(runs: int, **work) -> dict[str, list[tuple[float, object]]]:
    """Time each piece of work once per round, interleaved, so load from other processes on
    the machine falls on all of them alike; ratios are taken within a round."""
    times: dict[str, list[tuple[float, object]]] = {name: [] for name in work}
    for _ in range(runs):
        for name, (function, args) in work.items():
            gc.collect()
            started = time.perf_counter()
            result = function(*args)
            times[name].append((time.perf_counter() - started, result))
    return times


def peak(function, *args) -> int:
    gc.collect()
    tracemalloc.start()
    function(*args)
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--tools", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()

    feeds, entries = build(options.items, options.tools)
    started = time.perf_counter()
    index = Index(entries)
    print(
        f"catalog index: {len(entries):,} tools in {time.perf_counter() - started:.2f} s; "
        f"{len(feeds)} feeds, {sum(map(len, feeds)) / 1e6:.1f} MB of RSS"
    )
    measured = rounds(
        options.runs,
        default=(baseline, (feeds,)),
        lean=(baseline_lean, (feeds,)),
        path=(path, (feeds, index)),
    )
    parsed = measured["default"][0][1]
    items, matched = measured["path"][0][1]
    assert parsed == items == options.items, (parsed, items)
    best = {name: min(t for t, _ in results) for name, results in measured.items()}
    for label, name in [
        ("feedparser alone (defaults)", "default"),
        ("feedparser alone (adapter's opts)", "lean"),
        ("parse+normalise+dedupe", "path"),
    ]:
        print(f"{label:33} {best[name]:6.2f} s  {items / best[name]:8,.0f} items/s (best round)")
    known = len(range(0, items, 4))
    print(f"  {matched:,} items matched a catalog tool; {known:,} were written as one")

    def ratio(name: str) -> float:
        pairs = zip(measured["path"], measured[name], strict=True)
        return statistics.median(path_t / base_t for (path_t, _), (base_t, _) in pairs)

    print(
        f"ratio (median of per-round ratios): {ratio('default'):.2f}× feedparser's default "
        f"parse, {ratio('lean'):.2f}× the same parse without sanitising (goal ≤ 2×)"
    )

    print("peak memory (tracemalloc) as items grow, sources read one after another:")
    for size in (options.items // 4, options.items // 2, options.items):
        count = max(1, size // PER_FEED)
        base_peak = peak(baseline, feeds[:count])
        path_peak = peak(path, feeds[:count], index)
        print(
            f"  {size:>6,} items: path {path_peak / 1e6:5.1f} MB, "
            f"feedparser {base_peak / 1e6:5.1f} MB"
        )


if __name__ == "__main__":
    main()
