"""Pages that show facts, cold, with 10,000 tools holding 20 facts each, beside the same pages
of a tool without facts.

Run: .venv/bin/python bench/web_facts.py [--tools 10000] [--runs 20]
Prints, for the tool page, the comparison page (with and without a reader's own volumes) and a
category's facts table sorted by input price: the SQL query count cold at this scale and at
2 tools (they must be equal), and the median cold render against the same page of tools with
no facts (baseline, same run; for the facts table, the category's card listing).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

HOME = tempfile.mkdtemp(prefix="shipwith-bench-facts-")
os.environ["SHIPWITH_HOME"] = HOME
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipwith.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from web_data import populate  # noqa: E402

from shipwith.catalog.models import Category, Fact, FactChange, Tool  # noqa: E402
from shipwith.catalog.pairs import pair_slug  # noqa: E402
from shipwith.web import caching  # noqa: E402

VALUES = {
    "input_price_per_mtok": ["0.15", "0.3", "2.5", "3"],
    "output_price_per_mtok": ["0.6", "1.2", "10", "15"],
    "context_window": ["128000", "200000", "1000000"],
    "max_output_tokens": ["4096", "16384"],
    "input_modalities": ["image, text", "text"],
    "output_modalities": ["text"],
    "open_weights": ["false"],
    "licence": ["Proprietary"],
    "release_date": ["2024-05-13", "2025-01-20"],
    "parameters": ["70", "8"],
}


def facts_add(tools: list[Tool]) -> None:
    """Ten keys from two sources (20 rows) a tool, the sources disagreeing on one price, and
    a price change each (written directly: facts_record would take minutes here)."""
    now = timezone.now()
    facts, changes = [], []
    for n, tool in enumerate(tools):
        for s in range(2):
            url = f"https://source-{s}.example/{tool.slug}"
            read = now - timedelta(hours=3 + s, days=(n % 40) if s else 0)
            for key, choices in VALUES.items():
                value = choices[(n + (s if key == "output_price_per_mtok" else 0)) % len(choices)]
                source = {"source_url": url, "source_title": f"Source {s}", "read_at": read}
                facts.append(Fact(tool=tool, key=key, value=value, changed_at=read, **source))
            price = VALUES["input_price_per_mtok"][n % 4]
            changes.append(
                FactChange(tool=tool, key="input_price_per_mtok", old="0.1", new=price, **source)
            )
    with transaction.atomic():
        Fact.objects.bulk_create(facts, batch_size=5000)
        FactChange.objects.bulk_create(changes, batch_size=5000)


def cold(client: Client, url: str) -> tuple[float, int]:
    cache.clear()
    caching._local.clear()
    caching._versions.clear()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, len(queries)


def pages(a: Tool, b: Tool, *, facts: bool = True) -> dict[str, str]:
    """The pages measured; without facts, the same pages of tools without facts (and the
    category's card listing in place of its facts table)."""
    compare = f"/compare/{pair_slug(a, b)}/"
    table = "facts/?sort=input_price_per_mtok" if facts else ""
    return {
        "tool page": f"/tools/{a.slug}/",
        "comparison": compare,
        "comparison, reader's volumes": f"{compare}?input=20M&output=5M",
        "category facts by input price": f"/categories/hosted-models/{table}",
    }


def hosted(tools: list[Tool]) -> None:
    """The first category holds hosted models (its tools' pages show prices and workloads)."""
    Category.objects.filter(pk=tools[0].category_id).update(slug="hosted-models")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    client = Client(HTTP_HOST="127.0.0.1")

    tiny = populate(2, categories=1, seed=1)
    hosted(tiny)
    facts_add(tiny)
    small = {name: cold(client, url)[1] for name, url in pages(*tiny).items()}
    call_command("flush", interactive=False, verbosity=0)

    started = time.perf_counter()
    tools = populate(args.tools)
    hosted(tools)
    with_facts = tools[: len(tools) - 16]
    facts_add(with_facts)  # the last two of each category's tools have none: the baseline
    built = time.perf_counter() - started
    print(f"catalog: {args.tools} tools, {Fact.objects.count():,} facts (built in {built:.1f} s)")
    a, b = tools[0], tools[8]  # the same (hosted) category, with facts
    plain_a, plain_b = tools[-16], tools[-8]  # the same category, without facts
    print(f"{'page':<32} {'queries':>14} {'cold ms':>8} {'no facts':>9} {'ratio':>6}")
    plain_pages = pages(plain_a, plain_b, facts=False)
    for name, url in pages(a, b).items():
        plain = plain_pages[name]
        cold(client, url)  # warm Python-level caches
        ours, theirs, counts = [], [], set()
        for _ in range(args.runs):
            elapsed, queries = cold(client, url)
            ours.append(elapsed)
            counts.add(queries)
            theirs.append(cold(client, plain)[0])
        mine, base = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
        seen = ",".join(map(str, sorted(counts)))
        figures = f"{mine:>8.1f} {base:>9.1f} {mine / base:>5.2f}x"
        print(f"{name:<32} {seen:>6} (2: {small[name]:>2}) {figures}")


if __name__ == "__main__":
    main()
