"""Time to verdict: from a model first listed by an autopublishing source to its comparison page
showing a complete panel, with no editor, through the processes `shipwith up` runs.

On loopback: an OpenRouter-format model list (`/api/v1/models`, shaped as
tests/ingest/fixtures/openrouter_models.json) that can list one more model while it serves,
and an OpenAI-compatible model answering every call after `--latency` seconds
(bench/panel_common.py). A scratch SQLite home holds the starter catalog; the tools of
`hosted-models` get their panels from that model first (their median wall time is the
baseline: the panel's own wall time, same model, same run), and comparisons are published as
`up` does (less the moderator's reads: the stand-in model answers only reviews).

Then a real task worker (`shipwith worker`) and gunicorn start as `up` starts them, an
autopublishing source is added (`ingest sources add … --autopublish --every 60s`), and the
worker's polling takes its baseline. Right after the baseline run ends (the worst moment: a
whole interval to wait) the list gains a model: t0. As soon as a comparison of the new tool is
published (the comparisons feed and the digest link it), its page is fetched from gunicorn
every 0.05 s until both cards show a verdict (a ship figure from a complete panel, no draft):
t1. Also reported: when the source was due and read, the tool created, its panel started and
complete, the page of its pair with a peer (unpublished pairs render too), and whether it is in
the Atom feeds and the week's digest. A second model is listed right after a later read: the
first is the worker's first panel, the second its next.

Goal: t1 - t0 <= one poll interval (the source's own) + 1.5 x the panel's own wall time.

    .venv/bin/python bench/time_to_verdict.py [--every 60s] [--latency 0.5] [--items 2]

TTV_DEBUG=1 prints every page fetch (seconds after t0 it was sent, its wait, whether each card
shows a verdict): under load most of the last hop is the page's first render.
"""

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import panel_common  # noqa: E402

ROOT = panel_common.ROOT
MODEL = "bench-model"  # names no vendor: no seat recuses itself
CATEGORY = "hosted-models"
OLD_ID = "benchlab/lumen-chat"  # listed from the start: the baseline's back catalog
POLL_PAGE = 0.05
# After the page shows the verdict, how long to wait for a comparison of the new tool to be
# published before saying none was.
PUBLISH_GRACE = 15.0
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
ITEMS = [  # (OpenRouter id, "Vendor: Name", description) of the models listed after t0
    (
        "benchlab/quasar-pro",
        "Benchlab: Quasar Pro",
        "Benchlab's hosted model for long documents: text in, text out, with a 200K context. "
        "It answers questions about contracts and reports and cites the pages it used.",
    ),
    (
        "benchlab/nimbus-flash",
        "Benchlab: Nimbus Flash",
        "Benchlab's fast hosted model for chat and extraction: text in, text out. "
        "It returns JSON that follows a schema and streams its first token quickly.",
    ),
]


def model_record(model_id: str, name: str, description: str) -> dict:
    """One entry of OpenRouter's `data[]`, shaped as the ingest fixture's."""
    return {
        "id": model_id,
        "canonical_slug": model_id,
        "hugging_face_id": "",
        "name": name,
        "created": int(time.time()),
        "description": description,
        "context_length": 200000,
        "architecture": {
            "modality": "text->text",
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {"prompt": "0.000001", "completion": "0.000004", "request": "0", "image": "0"},
        "top_provider": {
            "context_length": 200000,
            "max_completion_tokens": 32000,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": ["max_tokens", "temperature", "tools"],
        "default_parameters": {},
    }


class Listing:
    """A loopback stand-in for OpenRouter's model list: ETag-aware (an unchanged list answers
    304), its records may grow while it serves, and each full answer is logged with its ids."""

    path = "/api/v1/models"

    def __init__(self, records: list[dict]) -> None:
        self.records = list(records)
        self.reads: list[tuple[float, set[str]]] = []  # (wall time, ids listed) of each 200
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def add(self, record: dict) -> None:
        with self._lock:
            self.records.append(record)

    def first_read(self, model_id: str) -> float | None:
        with self._lock:
            return next((at for at, ids in self.reads if model_id in ids), None)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        listing = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                with listing._lock:
                    records = list(listing.records)
                body = json.dumps({"data": records}).encode()
                etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
                if self.path != listing.path:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with listing._lock:
                    listing.reads.append((time.time(), {r["id"] for r in records}))
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def get(url: str) -> tuple[int, str]:
    try:
        with HTTP.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


def verdict_shown(html: str, name: str) -> bool:
    """Whether the comparison page's panel box for `name` shows a verdict: a ship figure from
    a complete panel with no draft take (not "Incomplete …" or "Draft …")."""
    for box in html.split('<div class="panel-box">')[1:]:
        heading = re.search(r'<h3 class="small-heading">(.*?)</h3>', box)
        if heading and heading[1].strip() == name:
            return bool(re.search(r"<strong>\d+% ship</strong> — \d+ of \d+ reviewers", box))
    return False


class Deadline:
    def __init__(self, seconds: float, home: Path) -> None:
        self.at = time.monotonic() + seconds
        self.seconds = seconds
        self.home = home

    def check(self, waiting_for: str) -> None:
        if time.monotonic() > self.at:
            tail = ""
            log = self.home / "worker.log"
            if log.exists():
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise SystemExit(
                f"FAILED: still waiting for {waiting_for} after {self.seconds:.0f} s "
                f"(logs in {self.home}).\nworker.log, last lines:\n{tail}"
            )


def wait_until(check, what: str, deadline: Deadline, pause: float = 0.2):
    while not (found := check()):
        deadline.check(what)
        time.sleep(pause)
    return found


def peers_reviewed() -> list[float]:
    """Give the category's starter tools their panels; return each panel's wall time."""
    from shipwith.catalog.models import Tool
    from shipwith.panel.models import RunStatus
    from shipwith.panel.runs import panel_run

    walls = []
    for tool_id in Tool.objects.filter(category__slug=CATEGORY).values_list("pk", flat=True):
        started = time.perf_counter()
        run = panel_run(tool_id=tool_id)
        walls.append(time.perf_counter() - started)
        assert run.status == RunStatus.COMPLETE, f"tool {tool_id}: panel {run.status}"
    return walls


def children_start(children, home: Path, port: int, workers: int) -> str:
    """The task worker and gunicorn as `up` starts them, each logging to a file in `home`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "shipwith.settings"}
    py = sys.executable
    commands = {
        "worker": [py, "-m", "shipwith", "worker"],
        "gunicorn": [
            py, "-m", "gunicorn", "shipwith.wsgi", "--config", "python:shipwith.web.gunicorn_conf",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--access-logfile", "/dev/null",
        ],
    }  # fmt: skip
    for name, command in commands.items():
        log = open(home / f"{name}.log", "w")  # noqa: SIM115 - the child holds it open
        # Each child leads its own process group (gunicorn's workers included), as under `up`;
        # Children.stop() signals the groups and reaps them.
        children.processes.append(
            subprocess.Popen(
                command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, process_group=0
            )
        )
    return f"http://127.0.0.1:{port}"


@dataclass
class Figures:
    """One model's way from the list to its verdict: seconds after t0 (it was listed)."""

    scheduled: float  # when the source's next read was due
    read: float  # the list first answered with the model
    created: float
    panel_started: float
    panel_done: float
    peer_page: float  # the page of its pair with a peer first showed both panels as verdicts
    pair: str
    published: float | None = None  # a comparison of it was first seen published
    page: float | None = None  # that comparison's page first showed both panels as verdicts
    published_pair: str = ""
    shown_in: dict[str, bool] = field(default_factory=dict)


@dataclass
class Site:
    url: str
    source: str
    interval: float
    panel_walls: list[float]  # the baseline: panel_run of the category's tools, in-process

    @property
    def panel_wall(self) -> float:
        return statistics.median(self.panel_walls)


def site_start(args, listing: Listing, home: Path, deadline: Deadline, children) -> Site:
    """The starter catalog with panels in the category, the worker and gunicorn, and an
    autopublishing source whose baseline the worker has taken."""
    from django.core.management import call_command

    from shipwith.catalog.pairs import pair_slug
    from shipwith.catalog.services import catalog_load_starter
    from shipwith.comparisons.services import comparisons_publish
    from shipwith.ingest.sources import interval_parse

    print(f"starter catalog: {catalog_load_starter()}")
    walls = peers_reviewed()
    median = statistics.median(walls)
    print(f"{CATEGORY}: {len(walls)} panels, median {median:.2f} s each, first {walls[0]:.2f} s")
    # As `up` does, less the moderator's reads: the stand-in model answers only reviews.
    print(f"comparisons: {comparisons_publish()}")
    (home / "static").mkdir()  # STATIC_ROOT, which `up` fills; whitenoise warns without it
    url = children_start(children, home, panel_common.free_port(), args.workers)
    wait_until(lambda: get(url + "/")[0] == 200, "gunicorn to serve the home page", deadline)
    # A live site has served its pages before: every server process has compiled the
    # templates (the first comparison page a process renders takes several times longer).
    from shipwith.comparisons.models import Comparison  # lazy: after Django's setup

    for _ in range(2 * args.workers):
        shown = Comparison.objects.published().filter(tool_a__category__slug=CATEGORY)
        for comparison in shown.select_related("tool_a", "tool_b"):
            get(f"{url}/compare/{pair_slug(comparison.tool_a, comparison.tool_b)}/")
    out = io.StringIO()
    call_command(
        "ingest", "sources", "add", "bench-models", "--kind", "openrouter", "--url", listing.url,
        "--category", CATEGORY, "--autopublish", "--every", args.every, stdout=out,
    )  # fmt: skip
    print(out.getvalue().strip())
    interval = interval_parse(args.every).total_seconds()
    return Site(url, "bench-models", interval, walls)


def read_ended(site: Site, after, deadline: Deadline):
    """Wait for a run of the source to have ended after the moment `after` (None: any run,
    the first being the baseline); return the source row."""
    from shipwith.ingest.models import IngestSource

    def ended() -> IngestSource | None:
        source = IngestSource.objects.get(name=site.source)
        if source.failures_in_row:
            raise SystemExit(f"FAILED: the source's run: {source.last_error}")
        if source.last_success_at and (after is None or source.last_success_at > after):
            return source
        return None

    return wait_until(ended, "a run of the source to end", deadline)


def item_follow(site: Site, listing: Listing, item: tuple, deadline: Deadline) -> Figures:
    """List `item` right after a read of the source ended, then follow it to its verdict."""
    from django.db.models import Q
    from django.utils import timezone

    from shipwith.catalog.models import Tool
    from shipwith.catalog.pairs import pair_slug
    from shipwith.comparisons.models import Comparison
    from shipwith.ingest.models import IngestSource
    from shipwith.newsletter.selectors import Week, week_items
    from shipwith.panel.models import PanelRun, RunStatus

    model_id, name, description = item
    source = IngestSource.objects.get(name=site.source)
    listing.add(model_record(model_id, name, description))
    t0 = time.time()
    scheduled = source.next_run_at.timestamp() - t0
    print(f"t0: {model_id} listed; the source is read next in {scheduled:.1f} s")

    tool = peer = published = None
    marks: dict[str, float] = {}
    state = "the new tool to be created"
    while True:
        deadline.check(state)
        now = time.time()
        if tool is None:
            tool = Tool.objects.filter(openrouter_slug=model_id).first()
            if tool is not None:
                peers = Tool.objects.filter(category_id=tool.category_id).exclude(pk=tool.pk)
                peer = peers.order_by("slug").first()
                state = f"/compare/{pair_slug(tool, peer)}/ to show both panels as verdicts"
        if tool is not None:
            if published is None:
                mine = Comparison.objects.published().filter(Q(tool_a=tool) | Q(tool_b=tool))
                if published := mine.select_related("tool_a", "tool_b").first():
                    marks["published"] = published.published_at.timestamp()
            pages = {"peer_page": (tool, peer)}
            if published is not None:  # the measured page first
                pages = {"page": (published.tool_a, published.tool_b), **pages}
            for mark, (a, b) in pages.items():
                if mark in marks:
                    continue
                sent = time.time()
                status, html = get(f"{site.url}/compare/{pair_slug(a, b)}/")
                if os.environ.get("TTV_DEBUG"):
                    print(
                        f"  {mark} {sent - t0:.2f} +{time.time() - sent:.3f} {status} "
                        f"{verdict_shown(html, a.name)} {verdict_shown(html, b.name)}"
                    )
                if status == 200 and verdict_shown(html, a.name) and verdict_shown(html, b.name):
                    marks[mark] = time.time()  # when the answer came: no earlier than shown
            if "page" in marks and "peer_page" in marks:
                break
            if "peer_page" in marks and now - marks["peer_page"] > PUBLISH_GRACE:
                break
        time.sleep(POLL_PAGE)

    run = PanelRun.objects.filter(tool=tool, status=RunStatus.COMPLETE).earliest("finished_at")
    shown_in = {}
    for feed in ("verdicts", "comparisons"):
        status, body = get(f"{site.url}/feeds/{feed}.atom")
        shown_in[f"the {feed} feed"] = status == 200 and tool.name in body
    items = week_items(Week.containing(timezone.now()))
    for kind in ("new_tool", "comparison"):
        shown_in[f"the digest as {kind}"] = any(
            item["kind"] == kind and tool.name in item.get("title", "") for item in items
        )

    def since(moment: float | None) -> float | None:
        return moment - t0 if moment is not None else None

    return Figures(
        scheduled=scheduled,
        read=since(listing.first_read(model_id)),
        created=since(tool.created_at.timestamp()),
        panel_started=since(run.started_at.timestamp()),
        panel_done=since(run.finished_at.timestamp()),
        peer_page=since(marks.get("peer_page")),
        pair=pair_slug(tool, peer),
        published=since(marks.get("published")),
        page=since(marks.get("page")),
        published_pair=pair_slug(published.tool_a, published.tool_b) if published else "",
        shown_in=shown_in,
    )


def report(args, site: Site, runs: list[Figures], load: tuple[float, float, float]) -> None:
    def row(label: str, values: list[str]) -> None:
        print(f"   {label:<40}" + "".join(f"{value:>10}" for value in values))

    def seconds(values) -> list[str]:
        return [f"{value:.2f}" if value is not None else "none" for value in values]

    def gap(later, earlier) -> list[str]:
        return seconds(
            b - a if a is not None and b is not None else None
            for a, b in ((earlier(f), later(f)) for f in runs)
        )

    names = ["first", "next"] + [f"item {n}" for n in range(3, len(runs) + 1)]
    print(
        f"\ntime to verdict: seconds after the model is listed, just after a read of the "
        f"source ({args.latency * 1000:.0f} ms per model call; poll interval "
        f"{site.interval:.0f} s; item 1 is the worker's first panel, item 2 its next)"
    )
    row("", names[: len(runs)])
    row("source due (its next read)", seconds(f.scheduled for f in runs))
    row("list read with the model", seconds(f.read for f in runs))
    row("tool created (autopublished)", seconds(f.created for f in runs))
    row("panel started", seconds(f.panel_started for f in runs))
    row("panel complete", seconds(f.panel_done for f in runs))
    row("comparison of it published", seconds(f.published for f in runs))
    row("its page shows the verdict (t1)", seconds(f.page for f in runs))
    row("a peer's pair page shows it", seconds(f.peer_page for f in runs))
    print("   the hops:")
    row("  due -> read", gap(lambda f: f.read, lambda f: f.scheduled))
    row("  read -> tool created", gap(lambda f: f.created, lambda f: f.read))
    row("  created -> panel started", gap(lambda f: f.panel_started, lambda f: f.created))
    row("  the panel, in the worker", gap(lambda f: f.panel_done, lambda f: f.panel_started))
    row("  panel complete -> published", gap(lambda f: f.published, lambda f: f.panel_done))
    row("  published -> its page shows it", gap(lambda f: f.page, lambda f: f.published))
    row("  read -> its page shows it", gap(lambda f: f.page, lambda f: f.read))
    for where in runs[0].shown_in:
        row(f"in {where}", ["yes" if f.shown_in[where] else "NO" for f in runs])
    print(f"   pages: {', '.join(f'/compare/{f.published_pair or f.pair}/' for f in runs)}")
    if any(f.page is None for f in runs):
        print(
            f"   no comparison of a new tool was published and shown within {PUBLISH_GRACE:.0f} s"
            " of its pair with a peer showing the verdict"
        )
    print(
        f"   panel's own wall time (baseline)      : {site.panel_wall:.2f} s (median of "
        f"{len(site.panel_walls)} panel_run in-process; the first {site.panel_walls[0]:.2f} s)"
    )
    row(
        "(t1 - t0 - poll interval) / panel",
        [
            f"{(f.page - site.interval) / site.panel_wall:.2f}x" if f.page is not None else "none"
            for f in runs
        ],
    )
    print("   goal <= 1.5x")
    row(
        "(t1 - due) / panel",
        [
            f"{(f.page - f.scheduled) / site.panel_wall:.2f}x" if f.page is not None else "none"
            for f in runs
        ],
    )
    print(f"   load average {load[0]:.1f} before, {os.getloadavg()[0]:.1f} after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", default="60s", help="the source's interval (30s, 1m…)")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per model call")
    parser.add_argument("--items", type=int, default=2, choices=range(1, len(ITEMS) + 1))
    parser.add_argument("--timeout", type=float, default=300, help="give up a step after (s)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()
    load = os.getloadavg()

    listing = Listing([model_record(OLD_ID, "Benchlab: Lumen Chat", "Benchlab's chat model.")])
    model, base_url = panel_common.start_server(args.latency)
    os.environ.update(
        SHIPWITH_LLM=f"openai:{MODEL}",
        SHIPWITH_LLM_BASE_URL=base_url,
        OPENAI_BASE_URL=base_url,
        SHIPWITH_INGEST_ALLOW_PRIVATE="1",
        SHIPWITH_INGEST_ALLOWED_PORTS=str(listing.port),
        SHIPWITH_INGEST_DEFAULTS="0",
    )
    children, runs = None, []
    try:
        home = panel_common.django_with_scratch_db()
        from shipwith.core.processes import Children  # lazy: after Django's setup, as the rest

        children = Children()
        print(f"scratch home {home}; {os.cpu_count()} cores; load average {load[0]:.1f}")
        site = site_start(args, listing, home, Deadline(args.timeout, home), children)
        after = None  # the first run waited for is the baseline
        for item in ITEMS[: args.items]:
            read_ended(site, after, Deadline(args.timeout, home))
            runs.append(item_follow(site, listing, item, Deadline(args.timeout, home)))
            after = read_ended(site, None, Deadline(args.timeout, home)).last_success_at
    finally:
        if children is not None:
            for child in children.stop():
                print(f"killed {child.args[2:4]}: still running after the stop deadline")
        model.kill()
        model.wait()
        listing.stop()
    report(args, site, runs, load)
    worker_log = (home / "worker.log").read_text(errors="replace").splitlines()
    print("   worker: " + next((line for line in worker_log if "Panel model" in line), "?"))
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
