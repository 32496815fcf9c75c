"""What ingest's reading costs over the bare libraries it is built on.

1. The feed adapter (feedparser, then every entry normalised into an Item) against
   `feedparser.parse` alone on the same bytes: N RSS items.
2. The OpenRouter adapter (an Item with prices per 1M tokens per model) against `json.loads`
   alone on the same bytes: N models.
3. `Fetcher.get` (address check, pinned connection, streamed size cap, content-type check)
   against a bare `httpx.Client.get` opening a connection per request as the Fetcher does
   (and, for reference, one reusing a keep-alive connection), on a loopback server: R requests
   of a 100 KB JSON body.

Each ratio is ours ÷ baseline, best of 3 interleaved rounds.

    .venv/bin/python bench/ingest_fetch.py [--items 10000] [--requests 300]
"""

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipwith.settings")

import django  # noqa: E402

django.setup()

import feedparser  # noqa: E402
import httpx  # noqa: E402

from shipwith.ingest.adapters import adapter_for  # noqa: E402
from shipwith.ingest.fetch import Fetched, Fetcher  # noqa: E402
from tests.ingest.server import FixtureServer  # noqa: E402


class Canned:
    """A fetcher that hands an adapter the same bytes every time (no network in parts 1–2)."""

    def __init__(self, body: bytes, content_type: str):
        self.body, self.content_type = body, content_type

    def get(self, url: str, **_) -> Fetched:
        return Fetched(
            url=url,
            final_url=url,
            status=200,
            content_type=self.content_type,
            body=self.body,
            fetched_at=datetime.now(UTC),
        )


def rss(n: int) -> bytes:
    items = "".join(
        f"<item><title>Tool {i} ships a faster model</title>"
        f"<link>https://vendor{i % 50}.example/blog/post-{i}</link>"
        f"<guid isPermaLink='false'>post-{i}</guid>"
        f"<description><![CDATA[<p>Tool {i} now answers <b>twice</b> as fast.</p>]]></description>"
        f"<pubDate>Mon, 30 Nov 2026 09:{i % 60:02d}:00 GMT</pubDate></item>"
        for i in range(n)
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>Blog</title>"
        f"<link>https://vendor.example/blog/</link>{items}</channel></rss>"
    ).encode()


def openrouter(n: int) -> bytes:
    models = [
        {
            "id": f"vendor{i % 40}/model-{i}",
            "canonical_slug": f"vendor{i % 40}/model-{i}-20261101",
            "hugging_face_id": f"Vendor{i % 40}/Model-{i}" if i % 3 == 0 else "",
            "name": f"Vendor {i % 40}: Model {i}",
            "created": 1790000000 + i,
            "description": f"Model {i} is a <b>general</b> model with a long context.",
            "context_length": 131072,
            "architecture": {"modality": "text->text", "input_modalities": ["text"]},
            "pricing": {"prompt": "0.0000025", "completion": "0.00001", "request": "0"},
            "top_provider": {"context_length": 131072, "is_moderated": False},
        }
        for i in range(n)
    ]
    return json.dumps({"data": models}).encode()


def best(rounds: list[tuple]) -> tuple:
    return tuple(min(values) for values in zip(*rounds, strict=True))


def parse_costs(items: int) -> None:
    feed = rss(items)
    feed_adapter = adapter_for("feed")(
        url="https://vendor.example/feed", options={}, fetcher=Canned(feed, "application/rss+xml")
    )
    listing = openrouter(items)
    models = adapter_for("openrouter")(
        url="", options={}, fetcher=Canned(listing, "application/json")
    )
    rounds = []
    for _ in range(3):
        started = time.perf_counter()
        feedparser.parse(feed)
        bare_feed = time.perf_counter() - started
        started = time.perf_counter()
        count = sum(1 for _ in feed_adapter.items())
        ours_feed = time.perf_counter() - started
        assert count == items
        started = time.perf_counter()
        json.loads(listing)
        bare_json = time.perf_counter() - started
        started = time.perf_counter()
        count = sum(1 for _ in models.items())
        ours_json = time.perf_counter() - started
        assert count == items
        rounds.append((bare_feed, ours_feed, bare_json, ours_json))
    bare_feed, ours_feed, bare_json, ours_json = best(rounds)
    print(
        f"feed, {items:,} RSS items: feedparser alone {items / bare_feed:,.0f} items/s, "
        f"feed adapter {items / ours_feed:,.0f} items/s: {ours_feed / bare_feed:.2f}x the cost"
    )
    print(
        f"openrouter, {items:,} models: json.loads alone {items / bare_json:,.0f} models/s, "
        f"adapter {items / ours_json:,.0f} models/s: {ours_json / bare_json:.2f}x the cost "
        f"({(ours_json - bare_json) / items * 1e6:.0f} µs per model)"
    )


def fetch_costs(requests: int) -> None:
    body = json.dumps({"data": ["x" * 100] * 1000}).encode()  # ~100 KB
    with FixtureServer() as server:
        url = server.serve("/models.json", body)
        fetcher = Fetcher(allow_private=True, allowed_ports={server.port}, host_delay=0)
        # The Fetcher opens a connection per request (it pins addresses, not hosts), so the
        # fair baseline does too; the keep-alive client shows what reusing connections saves.
        fresh = httpx.Client(trust_env=False, limits=httpx.Limits(max_keepalive_connections=0))
        reused = httpx.Client(trust_env=False)

        def timed(get) -> float:
            started = time.perf_counter()
            for _ in range(requests):
                assert len(get()) == len(body)
            return (time.perf_counter() - started) / requests * 1000

        rounds = [
            (
                timed(lambda: reused.get(url).content),
                timed(lambda: fresh.get(url).content),
                timed(lambda: fetcher.get(url, expect="json", conditional=False).body),
            )
            for _ in range(3)
        ]
        for closable in (fetcher, fresh, reused):
            closable.close()
    reused_ms, fresh_ms, ours_ms = best(rounds)
    print(
        f"fetch, {requests} x {len(body) // 1024} KB on loopback: Fetcher {ours_ms:.2f} ms/request"
        f" (checked, pinned, capped) vs httpx {fresh_ms:.2f} ms with a new connection each: "
        f"{ours_ms / fresh_ms:.2f}x; httpx with keep-alive {reused_ms:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    options = parser.parse_args()
    parse_costs(options.items)
    fetch_costs(options.requests)


if __name__ == "__main__":
    main()
