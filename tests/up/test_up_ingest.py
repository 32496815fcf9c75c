"""`shipwith up` with its default sources, pointed at loopback stand-ins of the real services
(SHIPWITH_INGEST_DEFAULTS_FILE: the packaged file with each service's host replaced)."""

import json
import socket
import sqlite3
import subprocess
import sys
import time

import pytest
import yaml

from shipwith.ingest.defaults import PACKAGED
from tests.ingest.server import FixtureServer, fixture
from tests.up.test_up import ROOT, start_up, stop, up_env, wait_for_site

SERVICES = [
    "https://openrouter.ai",
    "https://models.dev",
    "https://huggingface.co",
    "https://hn.algolia.com",
    "https://github.com",
]
OPENROUTER = "/api/v1/models"
RELEASES = "/vllm-project/vllm/releases.atom"

CATALOG = """
categories:
  - {slug: hosted-models, name: Hosted models, description: Models reached through an API.}
  - {slug: inference-servers, name: Inference servers, description: Serve models over HTTP.}
tools:
  - name: vLLM
    slug: vllm
    category: inference-servers
    tagline: High-throughput serving
    github_repo: vllm-project/vllm
    sources:
      - {url: "ORIGIN/pages/vllm/", title: vLLM docs}
  - name: GPT-4o
    slug: gpt-4o
    category: hosted-models
    tagline: OpenAI's flagship model
    openrouter_slug: openai/gpt-4o
    entry_price: {kind: usage, amount: 2, unit: 1M input tokens}
    sources:
      - {url: "ORIGIN/pages/gpt-4o/", title: GPT-4o pricing}
"""


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def query(db, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def openrouter_listing(*extra: dict) -> bytes:
    document = json.loads(fixture("openrouter_models.json"))
    document["data"] = [*extra, *document["data"]]
    return json.dumps(document).encode()


def stand_ins(server: FixtureServer) -> None:
    """Each default source's service, in its real format, on loopback."""
    origin = server.origin.encode()
    server.serve(OPENROUTER, openrouter_listing(), etag='"or-1"')
    server.serve("/api.json", fixture("modelsdev_api.json"))
    server.serve("/api/models", fixture("huggingface_models.json"))
    hits = fixture("hackernews_show_hn.json").replace(b"https://quill.example", origin)
    server.serve("/api/v1/search_by_date", hits)
    for path, page in [("/", "page_quill.html"), ("/broken", "page_relay.html")]:
        server.serve(path, fixture(page), content_type="text/html; charset=utf-8")
    server.serve(RELEASES, fixture("github_releases.atom"))
    for slug in ("vllm", "gpt-4o"):
        page = f"<html><head><title>{slug}</title></head><body><p>{slug} docs.</p></body></html>"
        server.serve(f"/pages/{slug}/", page.encode(), content_type="text/html; charset=utf-8")


def defaults_file(tmp_path, origin: str, *, openrouter_every: str = "") -> str:
    """The packaged defaults with each service's host replaced by `origin`."""
    document = yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))
    for entry in document["sources"]:
        for service in SERVICES:
            entry["url"] = entry["url"].replace(service, origin)
        if entry["kind"] == "openrouter" and openrouter_every:
            entry["every"] = openrouter_every
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return str(path)


def prepared(tmp_path, origin: str, port: int, defaults: str) -> dict:
    """A database with a small catalog whose pages are on loopback (not the starter's, whose
    pages are public), and the environment for `up` to read the stand-ins."""
    env = up_env(tmp_path, None) | {
        "SHIPWITH_INGEST_DEFAULTS": "1",
        "SHIPWITH_INGEST_POLL": "1",
        "SHIPWITH_INGEST_DEFAULTS_FILE": defaults,
        "SHIPWITH_INGEST_ALLOW_PRIVATE": "1",
        "SHIPWITH_INGEST_ALLOWED_PORTS": str(port),
        "SHIPWITH_INGEST_HOST_DELAY": "0",
        "SHIPWITH_INGEST_RETRIES": "0",
        "SHIPWITH_INGEST_CONNECT_TIMEOUT": "2",
    }
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG.replace("ORIGIN", origin), encoding="utf-8")
    for command in (["migrate", "--verbosity", "0"], ["catalog", "import", str(catalog)]):
        subprocess.run(
            [sys.executable, "-m", "shipwith", *command],
            env=env,
            cwd=tmp_path,
            check=True,
            capture_output=True,
            timeout=120,
        )
    return env


def wait_until(up, what: str, check, deadline: float) -> None:
    while not check():
        assert up.poll() is None, "shipwith up exited"
        assert time.monotonic() < deadline, f"not within two minutes: {what}"
        time.sleep(0.5)


@pytest.fixture
def server():
    with FixtureServer() as running:
        yield running


def test_up_reads_the_default_sources_records_backlogs_and_then_proposes_what_is_new(
    tmp_path, server
):
    db = tmp_path / "shipwith.sqlite3"
    stand_ins(server)
    defaults = defaults_file(tmp_path, server.origin, openrouter_every="10s")
    env = prepared(tmp_path, server.origin, server.port, defaults)
    started = time.monotonic()
    deadline = started + 120  # with no editor action, all of it within two minutes
    up, url = start_up(tmp_path, None, "--no-review", env=env)
    try:
        wait_for_site(up, url)
        sources = "select count(*) from ingest_ingestsource"
        read = sources + " where baseline_at is not null and failures_in_row = 0"
        # 4 shared sources and 1 release feed (vLLM has a repository, GPT-4o none).
        wait_until(up, "every source read", lambda: query(db, read) == [(5,)], deadline)
        assert query(db, sources) == [(5,)]
        wait_until(
            up,
            "the tools' pages checked",
            lambda: (
                query(db, "select count(*) from catalog_source where checked_on is null") == [(0,)]
            ),
            deadline,
        )
        candidates = dict(query(db, "select name, status from ingest_candidate"))
        # Back catalogs: the Hub's and OpenRouter's models, the Show HN post with 57 points.
        assert {"Llama 3.1 8B Instruct", "Quill 2", "Quill-7B-Instruct", "Quill"} <= {
            name for name, status in candidates.items() if status == "backlog"
        }
        assert "new" not in candidates.values()
        # Known tools are matched and their changes proposed.
        assert candidates["GPT-4o"] == "update" and candidates["vLLM"] == "update"
        assert query(db, "select count(*) from panel_panelrun") == [(0,)]

        # A model OpenRouter lists after the baseline is proposed as new at its next poll.
        quill3 = {
            "id": "acme/quill-3",
            "name": "Acme: Quill 3",
            "created": 1764547200,
            "description": "Quill 3, launched after the baseline.",
            "context_length": 131072,
            "pricing": {"prompt": "0.000001", "completion": "0.000002"},
        }
        server.serve(OPENROUTER, openrouter_listing(quill3), etag='"or-2"')
        new = "select name from ingest_candidate where status = 'new'"
        wait_until(up, "the new model proposed", lambda: query(db, new) == [("Quill 3",)], deadline)
    finally:
        out = stop(up)
    assert "Ingest: added 5 default sources (openrouter-models, models-dev," in out
    assert "Ingest: the worker reads 5 sources and refreshes the tools' pages now" in out
    [line] = [line for line in out.splitlines() if line.startswith("ingest: ")]
    assert line.startswith("ingest: 5 sources read; waiting for an editor: 0 new, 2 updates, ")
    dates = query(db, "select distinct checked_on from catalog_source")
    assert len(dates) == 1 and dates[0][0] is not None


def test_up_offline_says_so_in_one_line_without_a_traceback(tmp_path):
    nowhere = f"http://127.0.0.1:{closed_port()}"
    defaults = tmp_path / "sources.yaml"
    defaults.write_text(
        "sources:\n"
        + "".join(
            f"  - {{name: {kind}, kind: {kind}, url: '{nowhere}/{kind}'}}\n"
            for kind in ("openrouter", "modelsdev", "huggingface", "hackernews", "feed")
        ),
        encoding="utf-8",
    )
    port = int(nowhere.rsplit(":", 1)[1])
    env = prepared(tmp_path, nowhere, port, str(defaults))
    db = tmp_path / "shipwith.sqlite3"
    with open(tmp_path / "stderr.txt", "w+b") as errors:
        up, url = start_up(tmp_path, None, "--no-review", env=env, stderr=errors)
        try:
            wait_for_site(up, url)
            failing = "select count(*) from ingest_ingestsource where unreachable"
            wait_until(
                up, "5 sources failed", lambda: query(db, failing) == [(5,)], time.monotonic() + 90
            )
            time.sleep(3)  # `up` looks every second
        finally:
            out = stop(up)
        errors.seek(0)
        err = errors.read().decode()
    lines = [line for line in out.splitlines() if "unreachable" in line or "ingest:" in line]
    assert lines == [
        "ingest: 5 sources unreachable — offline? Each is tried again with backoff; "
        "`shipwith status` shows them."
    ]
    assert "Traceback" not in out + err
    assert "connection failed" not in out + err  # said once, by `up`, not per source
    # Each source keeps its failure and waits before its next try.
    rows = query(db, "select last_error, failures_in_row, next_run_at from ingest_ingestsource")
    assert all(
        "connection failed" in error and failures == 1 and when for error, failures, when in rows
    )


def test_up_setup_only_adds_sources_queues_one_polling_one_weekly_send_and_fetches_nothing(
    tmp_path, server
):
    stand_ins(server)
    env = prepared(tmp_path, server.origin, server.port, defaults_file(tmp_path, server.origin))
    command = [sys.executable, "-m", "shipwith", "up", "--setup-only"]
    # Two at once (two operators, a retried deploy): one set of sources, one chain of each task.
    runs = [
        subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [run.communicate(timeout=180)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    db = tmp_path / "shipwith.sqlite3"
    assert query(db, "select count(*) from ingest_ingestsource") == [(5,)]
    assert sum("Ingest: added 5 default sources" in out for out in outs) == 1
    assert all("(nothing fetched now)" in out for out in outs)
    ready = "select task_path, count(*) from django_tasks_database_dbtaskresult where status = 'READY' group by task_path"
    assert dict(query(db, ready)) == {
        "shipwith.ingest.tasks.ingest_poll": 1,
        "shipwith.ingest.tasks.ingest_refresh": 1,
        "shipwith.newsletter.tasks.newsletter_weekly": 1,  # the sign-up form's promise kept
    }
    assert all(
        "Newsletter: the weekly issue goes to confirmed subscribers Mon" in out for out in outs
    )
    assert server.requests == []  # nothing fetched


def test_up_with_defaults_off_adds_none(tmp_path, server):
    env = prepared(tmp_path, server.origin, server.port, defaults_file(tmp_path, server.origin))
    env |= {"SHIPWITH_INGEST_DEFAULTS": "0", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "shipwith", "up", "--setup-only"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Ingest: no default sources (SHIPWITH_INGEST_DEFAULTS=0)." in done.stdout
    assert query(tmp_path / "shipwith.sqlite3", "select count(*) from ingest_ingestsource") == [
        (0,)
    ]
