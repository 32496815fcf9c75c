"""Hot API reads against the HTML tool page, and their query counts as the catalog grows.

Run: .venv/bin/python bench/api_throughput.py [--seconds 3] [--tools 200] [--large 10000]
Needs wrk (apt-get install wrk). Everything binds to 127.0.0.1.

1. Throughput: gunicorn as `shipwith up` runs it; wrk on the hot HTML tool page (the baseline,
   a returning reader with a CSRF cookie), on `GET /api/v1/tools` (its default page: 20 cards),
   on `?limit=100` and on `GET /api/v1/tools/{slug}`, in interleaved rounds; ratios are per
   round, then the median. The server's CPU per request in the same rounds comes from /proc
   (gunicorn's master and workers, user + system).
2. Query counts: each endpoint cold (caches emptied) in a catalog of 50 tools and one of
   `--large` tools, through Django's test client.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from web_throughput import gunicorn, stop, wait_for, wrk

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.votes.live import processes_cpu_seconds  # noqa: E402

BENCH = ROOT / "bench"
PY = sys.executable
PORT = 18011
SLUG = "tool-00000"
TARGETS = {
    "HTML tool page": f"/tools/{SLUG}/",
    "GET /api/v1/tools": "/api/v1/tools",
    "GET /api/v1/tools?limit=100": "/api/v1/tools?limit=100",
    "GET /api/v1/tools/{slug}": f"/api/v1/tools/{SLUG}",
}
COUNTED = {
    "GET /api/v1/tools": "/api/v1/tools",
    "GET /api/v1/tools?category=…&panel=ship": "/api/v1/tools?category=category-0&panel=ship",
    "GET /api/v1/tools/{slug}": f"/api/v1/tools/{SLUG}",
    "GET /api/v1/comparisons": "/api/v1/comparisons",
    "GET /api/v1/changes": "/api/v1/changes?since=2000-01-01T00:00:00Z",
    "HTML tool page": f"/tools/{SLUG}/",
}

SETUP = """
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("collectstatic", verbosity=0, interactive=False)
from web_data import populate
populate({tools})
from shipwith.comparisons.services import comparisons_publish
comparisons_publish()
"""

COUNT = """
import json
import django; django.setup()
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from shipwith.core.models import Stamp
from shipwith.web import caching
client, counts = Client(HTTP_HOST="127.0.0.1"), {{}}
for name, url in json.loads({urls!r}).items():
    caches["default"].clear()
    Stamp.objects.update(value=1)  # every tool changed long ago: a cold list renders once
    caching._local.clear()
    caching._versions.clear()
    with CaptureQueriesContext(connection) as captured:
        status = client.get(url).status_code
    assert status == 200, (url, status)
    counts[name] = len(captured)
print(json.dumps(counts))
"""


HOT = """
import json, time
import django; django.setup()
from django.test import Client
client, timings = Client(HTTP_HOST="127.0.0.1", HTTP_COOKIE="csrftoken=" + "k" * 32), {{}}
for _ in range({rounds}):  # interleaved, as wrk's rounds
    for name, url in json.loads({urls!r}).items():
        assert client.get(url).status_code == 200, url
        started = time.process_time()
        for _ in range({requests}):
            client.get(url)
        timings.setdefault(name, []).append((time.process_time() - started) / {requests} * 1e6)
print(json.dumps(timings))
"""


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def run_python(code: str, env: dict) -> str:
    done = subprocess.run(
        [PY, "-c", code], env=env, cwd=BENCH, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(done.stderr)
    return done.stdout


def site(tools: int) -> tuple[Path, dict]:
    home = Path(tempfile.mkdtemp(prefix="shipwith-bench-api-"))
    env = {
        **os.environ,
        "SHIPWITH_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)]),  # this tree's code
        "DJANGO_SETTINGS_MODULE": "shipwith.settings",
        # The limit is counted on every request but never reached: its cost is measured.
        "SHIPWITH_API_RATE": "100000000/m",
    }
    env.pop("DATABASE_URL", None)
    run_python(SETUP.format(tools=tools), env)
    return home, env


def query_counts(tools: int) -> dict[str, int]:
    home, env = site(tools)
    try:
        return json.loads(run_python(COUNT.format(urls=json.dumps(COUNTED)), env))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def cpu_per_request(args) -> dict[str, list[float]]:
    """Server CPU per hot request in one process (Django's test client): free of wrk's and the
    shared machine's noise."""
    home, env = site(args.tools)
    try:
        code = HOT.format(urls=json.dumps(TARGETS), rounds=args.rounds, requests=500)
        return json.loads(run_python(code, env))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def server_cpu(master: int) -> float:
    """CPU seconds used so far by gunicorn's master and its workers (user + system, /proc)."""
    return processes_cpu_seconds([master])


def throughput(args) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Requests per second by wrk, and the server's CPU microseconds per request, per round."""
    home, env = site(args.tools)
    runs: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    app = gunicorn(env, PORT, args.workers)
    try:
        for path in TARGETS.values():
            wait_for(f"http://127.0.0.1:{PORT}{path}")
        for _ in range(args.rounds):
            for name, path in TARGETS.items():
                url = f"http://127.0.0.1:{PORT}{path}"
                used, started = server_cpu(app.pid), time.monotonic()
                rate = wrk(url, args.seconds, args.connections, args.threads)
                used, elapsed = server_cpu(app.pid) - used, time.monotonic() - started
                runs.setdefault(name, []).append(rate)
                cpu.setdefault(name, []).append(used / (rate * elapsed) * 1e6)
    finally:
        stop(app)
        shutil.rmtree(home, ignore_errors=True)
    return runs, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=3, help="as `shipwith up` (default 3)")
    parser.add_argument("--tools", type=int, default=200, help="catalog for the throughput")
    parser.add_argument("--large", type=int, default=10_000, help="the large catalog's size")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-counts", action="store_true", help="throughput only")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    print(f"load average before: {load_average()}")
    runs, server = throughput(args)
    print(
        f"wrk {args.threads} threads, {args.connections} connections, {args.seconds} s x "
        f"{args.rounds} interleaved rounds; gunicorn {args.workers} workers; {args.tools} tools"
    )
    for name, values in runs.items():
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(f"{name:>28}: median {statistics.median(values):8.0f} req/s  ({shown})")
    base = runs["HTML tool page"]
    for name in list(TARGETS)[1:]:
        ratio = statistics.median(x / y for x, y in zip(runs[name], base, strict=True))
        print(f"{name} / HTML tool page: {ratio:.2f}x (goal >= 1.0x)")
    print("server CPU per request during those rounds (gunicorn's processes, /proc):")
    for name, values in server.items():
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(f"{name:>28}: median {statistics.median(values):7.0f} us  ({shown})")
    for name in list(TARGETS)[1:]:
        pairs = zip(server[name], server["HTML tool page"], strict=True)
        ratio = statistics.median(b / x for x, b in pairs)
        print(f"{name} / HTML tool page: {ratio:.2f}x the requests per server CPU second")

    cpu = cpu_per_request(args)
    print("CPU per hot request in one process (test client, 500 requests x rounds):")
    for name, values in cpu.items():
        print(f"{name:>28}: median {statistics.median(values):7.0f} us")
    for name in list(TARGETS)[1:]:
        ratio = statistics.median(
            b / x for x, b in zip(cpu[name], cpu["HTML tool page"], strict=True)
        )
        print(f"{name} / HTML tool page: {ratio:.2f}x the requests per CPU second")

    print(f"load average after: {load_average()}")
    if args.no_counts:
        return
    small, large = query_counts(50), query_counts(args.large)
    print(f"SQL queries, cold: 50 tools -> {args.large:,} tools")
    for name in COUNTED:
        same = "constant" if small[name] == large[name] else "GROWS"
        print(f"{name:>40}: {small[name]:3d} -> {large[name]:3d}  {same}")


if __name__ == "__main__":
    main()
