"""Cold render of a comparison page with 10,000 tools and 40,000 reviews, beside a bare render.

Run: .venv/bin/python bench/web_render.py [--tools 10000] [--runs 40]
Baseline, same run: a Django view that renders a template holding the very same HTML (no
database), through the same middleware and test client. Prints the SQL query count of the cold
comparison render at this scale and at a tiny scale (they must be equal), the medians, and the
ratio.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

HOME = tempfile.mkdtemp(prefix="shipwith-bench-render-")
os.environ["SHIPWITH_HOME"] = HOME
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipwith.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import path  # noqa: E402
from web_data import populate  # noqa: E402

from shipwith.catalog.pairs import pair_slug  # noqa: E402
from shipwith.comparisons.services import comparisons_publish  # noqa: E402
from shipwith.web import caching  # noqa: E402


def cold_get(client: Client, url: str) -> tuple[float, int, bytes]:
    cache.clear()
    caching._local.clear()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return elapsed, len(queries), response.content


def bare_urls(template_dir: Path) -> types.ModuleType:
    module = types.ModuleType("bench_bare_urls")
    module.urlpatterns = [path("bare/", lambda request: render(request, "bench_page.html"))]
    sys.modules[module.__name__] = module
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    client = Client(HTTP_HOST="127.0.0.1")

    tiny = populate(2, categories=1, seed=1)
    small_url = f"/compare/{pair_slug(tiny[0], tiny[1])}/"
    _, small_queries, _ = cold_get(client, small_url)
    call_command("flush", interactive=False, verbosity=0)

    started = time.perf_counter()
    tools = populate(args.tools)
    built = time.perf_counter() - started
    started = time.perf_counter()
    report = comparisons_publish()
    published = time.perf_counter() - started
    a, b = tools[0], tools[8]  # same category
    url = f"/compare/{pair_slug(a, b)}/"
    cold_get(client, url)  # warm Python-level caches (templates, URL resolver)
    ours, counts, html = [], set(), b""
    for _ in range(args.runs):
        elapsed, queries, html = cold_get(client, url)
        ours.append(elapsed)
        counts.add(queries)

    template_dir = Path(HOME) / "templates"
    template_dir.mkdir()
    # The same bytes, as a template with nothing to compute.
    text = html.decode().replace("{% endverbatim %}", "")
    (template_dir / "bench_page.html").write_text("{% verbatim %}" + text + "{% endverbatim %}")
    engine = {**settings.TEMPLATES[0], "DIRS": [str(template_dir)]}
    with override_settings(ROOT_URLCONF=bare_urls(template_dir).__name__, TEMPLATES=[engine]):
        client.get("/bare/")
        bare = []
        for _ in range(args.runs):
            elapsed, _, _ = cold_get(client, "/bare/")
            bare.append(elapsed)

    ours_ms, bare_ms = statistics.median(ours) * 1000, statistics.median(bare) * 1000
    print(f"catalog: {args.tools} tools, {args.tools * 4} reviews (built in {built:.1f} s)")
    print(f"comparisons publish: {report} in {published:.2f} s")
    print(
        f"comparison page SQL queries, cold: {sorted(counts)} at scale, {small_queries} at 2 tools"
    )
    print(f"comparison page size: {len(html):,} bytes")
    print(f"cold render median: {ours_ms:.2f} ms")
    print(f"bare template render of the same HTML median: {bare_ms:.2f} ms")
    print(f"ratio (cold render / bare render): {ours_ms / bare_ms:.2f}x")


if __name__ == "__main__":
    main()
