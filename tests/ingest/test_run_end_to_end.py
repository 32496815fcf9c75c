"""`shipwith ingest run` over sources in their real shapes, served from a loopback server."""

import json
import socket
import threading
import time

import pytest
from django.core.management import CommandError
from django.utils import timezone

from shipwith.catalog.models import PriceChange, Source, Tool
from shipwith.ingest.decisions import candidate_accept
from shipwith.ingest.models import Candidate, IngestSource, Mention
from shipwith.ingest.run import ingest_run
from tests.ingest.server import Reply, fixture

pytestmark = pytest.mark.django_db

OPENROUTER = "/api/v1/models"
HUB = "/api/models?sort=createdAt&direction=-1&limit=100"


@pytest.fixture
def loopback(settings):
    """The Fetcher may reach the loopback server (tests only), without politeness delays."""
    settings.SHIPWITH_INGEST_ALLOW_PRIVATE = True
    settings.SHIPWITH_INGEST_HOST_DELAY = 0
    settings.SHIPWITH_INGEST_RETRIES = 0
    settings.SHIPWITH_INGEST_READ_TIMEOUT = 2
    settings.SHIPWITH_INGEST_TOTAL_TIMEOUT = 5


def openrouter_body(gpt4o_prompt: str = "0.0000025") -> bytes:
    document = json.loads(fixture("openrouter_models.json"))
    for model in document["data"]:
        if model["id"] == "openai/gpt-4o":
            model["pricing"]["prompt"] = gpt4o_prompt
    return json.dumps(document).encode()


@pytest.fixture
def sources(server, loopback, starter_catalog, run_command):
    server.serve(OPENROUTER, openrouter_body(), etag='"or-1"')
    server.serve(HUB, fixture("huggingface_models.json"), etag='W/"hf-1"')
    add_source(
        run_command,
        "openrouter",
        "openrouter",
        server.url(OPENROUTER),
    )
    add_source(run_command, "hf-hub", "huggingface", server.url(HUB))
    return server


def add_source(run_command, name: str, kind: str, url: str) -> None:
    # No baseline: what the sources list is new (their back catalog: tests/ingest/test_baseline.py).
    run_command("ingest", "sources", "add", name, "--kind", kind, "--url", url, "--no-baseline")


def candidates(run_command, *args) -> dict[str, dict]:
    lines = run_command("ingest", "candidates", "--json", *args).splitlines()
    return {row["name"]: row for row in map(json.loads, lines)}


def test_from_a_fresh_database_to_accepted_tools_and_price_history(
    sources, run_command, client, django_capture_on_commit_callbacks
):
    run_command("ingest", "run")
    found = candidates(run_command)

    # One candidate across two sources: Llama 3.1 8B on OpenRouter and on the Hub.
    llama = found["Llama 3.1 8B Instruct"]
    assert (llama["status"], llama["sources"]) == ("new", ["hf-hub", "openrouter"])
    assert llama["category"] == "open-weight-models"
    # A known tool is matched, not proposed: GPT-4o at its catalog price.
    assert found["GPT-4o"] == {
        "id": found["GPT-4o"]["id"],
        "name": "GPT-4o",
        "status": "duplicate",
        "tool": "gpt-4o",
        "category": "hosted-models",
        "sources": ["openrouter"],
        "changes": {},
    }
    assert {"Mistral Nemo", "Quill 2", "Quill-7B-Instruct"} <= set(found)
    assert not [name for name, row in found.items() if row["status"] == "new" and row["tool"]]

    # Accept the new model: a tool with dated sources and a queued panel.
    with django_capture_on_commit_callbacks(execute=True):
        run_command("ingest", "accept", str(llama["id"]))
    tool = Tool.objects.get(name="Llama 3.1 8B Instruct")
    assert tool.huggingface_id == "meta-llama/llama-3.1-8b-instruct"
    assert {s.checked_on for s in tool.sources.all()} == {timezone.now().date()}
    assert tool.sources.count() == 2
    assert tool.panel_runs.count() == 1

    # The price of GPT-4o changes at the source: proposed as an update with old and new.
    sources.serve(OPENROUTER, openrouter_body("0.000003"), etag='"or-2"')
    run_command("ingest", "run", "openrouter")
    update = candidates(run_command, "--status", "update")["GPT-4o"]
    assert update["changes"] == {
        "price_input_per_mtok": ["2.5", "3"],
        "fact:input_price_per_mtok": ["2.5", "3"],
    }
    with django_capture_on_commit_callbacks(execute=True):
        run_command("ingest", "accept", str(update["id"]))
    assert Tool.objects.get(slug="gpt-4o").price_amount == 3
    assert PriceChange.objects.get().source.startswith("openrouter https://openrouter.ai/")
    page = client.get("/tools/gpt-4o/").content.decode()
    assert f"$2.50 → $3 per 1M tokens since {timezone.now():%-d %b %Y}" in page

    # A second run over unchanged sources changes nothing: both listings answer 304.
    before = (list(Candidate.objects.order_by("pk").values()), Mention.objects.count())
    out = run_command("ingest", "run")
    assert "openrouter: 0 items" in out and "hf-hub: 0 items" in out
    assert (list(Candidate.objects.order_by("pk").values()), Mention.objects.count()) == before
    assert sources.seen(OPENROUTER)[-1].headers.get("If-None-Match") == '"or-2"'
    assert sources.seen(HUB)[-1].headers.get("If-None-Match") == 'W/"hf-1"'


def test_one_bad_source_never_stops_the_others(sources, run_command):
    sources.serve("/broken", fixture("openrouter_models_malformed.json"))
    add_source(
        run_command,
        "broken-or",
        "openrouter",
        sources.url("/broken"),
    )
    with pytest.raises(CommandError, match="some sources failed"):
        run_command("ingest", "run")
    broken = IngestSource.objects.get(name="broken-or")
    assert broken.failures_in_row == 1 and broken.last_success_at is None
    assert broken.last_error.startswith("source 'broken-or': ")
    healthy = IngestSource.objects.get(name="hf-hub")
    assert healthy.failures_in_row == 0 and healthy.items_seen == 3
    assert Candidate.objects.filter(mentions__source_name="openrouter").exists()
    listing = run_command("ingest", "sources", "list")
    assert "FAILING 1 in a row" in listing


def test_a_bad_item_is_skipped_and_named_on_the_source(server, loopback, run_command, categories):
    server.serve(OPENROUTER, fixture("openrouter_models_bad.json"), etag='"bad"')
    add_source(
        run_command,
        "openrouter",
        "openrouter",
        server.url(OPENROUTER),
    )
    run_command("ingest", "run")
    source = IngestSource.objects.get()
    assert source.failures_in_row == 0
    assert "source 'openrouter', item '" in source.last_error
    assert Candidate.objects.exists()
    # Skipped items get another chance: the listing is read in full next time (no 304).
    run_command("ingest", "run")
    assert "If-None-Match" not in server.seen(OPENROUTER)[-1].headers


def test_a_loopback_source_is_refused_before_any_connection(server, settings, run_command, db):
    settings.SHIPWITH_INGEST_ALLOW_PRIVATE = False
    settings.SHIPWITH_INGEST_HOST_DELAY = 0
    server.serve(OPENROUTER, fixture("openrouter_models.json"))
    add_source(
        run_command,
        "sneaky",
        "openrouter",
        server.url(OPENROUTER),
    )
    with pytest.raises(CommandError):
        run_command("ingest", "run")
    assert server.connections == 0
    assert "loopback" in IngestSource.objects.get().last_error
    assert not Candidate.objects.exists()


def test_refresh_stores_a_page_only_when_it_was_fetched(server, loopback, categories, run_command):
    tool = Tool.objects.create(name="Quill", slug="quill", category=categories["inference-servers"])
    page = server.serve(
        "/quill/", fixture("page_quill.html"), content_type="text/html; charset=utf-8", etag='"q1"'
    )
    source = Source.objects.create(tool=tool, url=page, title="Quill")
    gone = Source.objects.create(tool=tool, url=server.url("/gone/"), title="Gone")
    server.route("/gone/", Reply(status=404))

    out = run_command("ingest", "refresh")
    assert "1 pages fetched and stored, 0 unchanged (304), 1 failed" in out
    source.refresh_from_db()
    assert source.checked_on == timezone.now().date()
    assert "runs a local language model" in source.snapshot and "<" not in source.snapshot
    assert source.etag == '"q1"'
    gone.refresh_from_db()
    assert gone.checked_on is None and gone.snapshot == ""

    # A 304 changes nothing: not the snapshot, not the date.
    Source.objects.filter(pk=source.pk).update(checked_on="2026-11-01")
    out = run_command("ingest", "refresh")
    assert "0 pages fetched and stored, 1 unchanged (304)" in out
    source.refresh_from_db()
    assert str(source.checked_on) == "2026-11-01"


def test_each_bad_source_fails_alone_with_its_name_and_the_good_one_is_read(
    server, loopback, settings, run_command, categories
):
    settings.SHIPWITH_INGEST_MAX_BYTES = 1024 * 1024
    settings.SHIPWITH_INGEST_RETRY_AFTER_MAX = 1
    server.route("/huge", Reply(stream_bytes=40 * 1024 * 1024, chunked=True))
    server.route("/stall", Reply(body=b"{}", stall=4))
    server.route("/loop-a", Reply(redirect="/loop-b"))
    server.route("/loop-b", Reply(redirect="/loop-a"))
    server.route("/busy", Reply(status=429, headers={"Retry-After": "3600"}))
    server.serve(HUB, fixture("huggingface_models.json"), etag='W/"hf-1"')
    bad = ["huge", "stall", "loop-a", "busy"]
    for name in bad:
        add_source(
            run_command,
            name,
            "openrouter",
            server.url(f"/{name}"),
        )
    add_source(run_command, "hf-hub", "huggingface", server.url(HUB))
    with pytest.raises(CommandError):
        run_command("ingest", "run")
    errors = dict(IngestSource.objects.filter(name__in=bad).values_list("name", "last_error"))
    assert all(errors[name].startswith(f"source '{name}': ") for name in bad), errors
    assert "bytes" in errors["huge"] or "large" in errors["huge"]
    assert "redirect loop" in errors["loop-a"]
    assert "429" in errors["busy"]
    assert IngestSource.objects.get(name="hf-hub").last_error == ""
    assert Candidate.objects.filter(mentions__source_name="hf-hub").count() == 3


def test_page_text_is_kept_as_plain_text_data(server, loopback, run_command, categories):
    body = fixture("hackernews_show_hn.json").replace(
        b"https://quill.example", server.origin.encode()
    )
    path = "/api/v1/search_by_date?tags=show_hn&hitsPerPage=100"
    server.serve(path, body)
    server.serve("/", fixture("page_quill.html"), content_type="text/html; charset=utf-8")
    server.serve("/relay/", fixture("page_relay.html"), content_type="text/html; charset=utf-8")
    add_source(run_command, "show-hn", "hackernews", server.url(path))
    run_command("ingest", "run")
    relay = Candidate.objects.get(name="Relay")
    tool = candidate_accept(candidate_id=relay.pk, category_slug="inference-servers")
    [source] = tool.sources.all()
    assert "Ignore previous instructions" in source.snapshot  # data, quoted or not, never obeyed
    assert "<script" not in source.snapshot and "<" not in tool.description


def test_a_hanging_dns_lookup_fails_its_source_fast_and_names_the_host(
    server, loopback, settings, monkeypatch, categories
):
    settings.SHIPWITH_INGEST_CONNECT_TIMEOUT = 0.5
    server.serve(HUB, fixture("huggingface_models.json"))
    IngestSource.objects.create(
        name="hf-hub", kind="huggingface", url=server.url(HUB), baseline_at=timezone.now()
    )
    IngestSource.objects.create(
        name="slow-dns", kind="openrouter", url="https://models.slow-dns.example/api/v1/models"
    )
    # The system resolver's DNS server does not answer for this one name.
    released = threading.Event()
    system_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == "models.slow-dns.example":
            released.wait(10)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return system_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    started = time.monotonic()
    try:
        reports = {report.name: report for report in ingest_run()}
    finally:
        released.set()

    assert time.monotonic() - started < 5
    expected = (
        "source 'slow-dns': FetchError: https://models.slow-dns.example/api/v1/models: "
        "resolving models.slow-dns.example timed out after 0.5 s"
    )
    assert reports["slow-dns"].error == expected
    row = IngestSource.objects.get(name="slow-dns")
    assert (row.last_error, row.failures_in_row, row.running) == (expected, 1, False)
    assert not reports["hf-hub"].error and reports["hf-hub"].created == 3
