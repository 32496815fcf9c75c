"""A source's first run is a baseline: its back catalog is `backlog`, only what comes after is new."""

import json
from decimal import Decimal

import pytest
from django_tasks_db.models import DBTaskResult

from shipwith.catalog.models import Tool
from shipwith.ingest.models import Candidate, IngestSource, Status, Validator
from shipwith.ingest.run import ingest_run
from tests.ingest.server import fixture

pytestmark = pytest.mark.django_db

OPENROUTER = "/api/v1/models"
RELEASES = "/vllm-project/vllm/releases.atom"
PANEL_TASK = "shipwith.panel.tasks"


@pytest.fixture
def loopback(settings):
    settings.SHIPWITH_INGEST_ALLOW_PRIVATE = True
    settings.SHIPWITH_INGEST_HOST_DELAY = 0
    settings.SHIPWITH_INGEST_RETRIES = 0
    settings.SHIPWITH_INGEST_TOTAL_TIMEOUT = 5


def listing(*extra: dict) -> bytes:
    """The OpenRouter fixture (4 models), with `extra` models listed first (newest)."""
    document = json.loads(fixture("openrouter_models.json"))
    document["data"] = [*extra, *document["data"]]
    return json.dumps(document).encode()


def launched(model_id: str, name: str) -> dict:
    return {
        "id": model_id,
        "name": name,
        "created": 1764547200,
        "description": f"{name}, launched after the baseline.",
        "context_length": 131072,
        "pricing": {"prompt": "0.000001", "completion": "0.000002"},
    }


@pytest.fixture
def gpt4o(categories):
    """A catalog tool OpenRouter lists at another price (2.00, not 2.50, per 1M input)."""
    return Tool.objects.create(
        name="GPT-4o",
        slug="gpt-4o",
        category=categories["hosted-models"],
        price_kind="usage",
        price_amount=Decimal("2.00"),
        price_unit="1M input tokens",
        openrouter_slug="openai/gpt-4o",
    )


@pytest.fixture
def openrouter(server, loopback, run_command):
    server.serve(OPENROUTER, listing(), etag='"v1"')
    run_command("ingest", "sources", "add", "openrouter", "--kind", "openrouter",
                "--url", server.url(OPENROUTER))  # fmt: skip
    return server


def panels_queued() -> int:
    return DBTaskResult.objects.filter(task_path__startswith=PANEL_TASK).count()


def by_status() -> dict[str, set[str]]:
    rows: dict[str, set[str]] = {}
    for name, status in Candidate.objects.values_list("name", "status"):
        rows.setdefault(status, set()).add(name)
    return rows


def test_a_first_run_records_the_back_catalog_and_still_proposes_known_tools_changes(
    openrouter, gpt4o, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [report] = ingest_run()

    # 4 listed: the known tool's price change is proposed (1 candidate created), the other 3
    # are back catalog.
    assert (report.items, report.backlog, report.created) == (4, 3, 1)
    assert "3 to the back catalog (first run: backlog)" in str(report)
    assert by_status() == {
        "backlog": {"Llama 3.1 8B Instruct", "Mistral Nemo", "Quill 2"},
        "update": {"GPT-4o"},
    }
    update = Candidate.objects.get(status=Status.UPDATE)
    assert update.tool == gpt4o and update.changes == {"price_input_per_mtok": ["2", "2.5"]}
    assert panels_queued() == 0
    assert IngestSource.objects.get().baseline_at is not None


def test_what_a_source_lists_after_its_baseline_is_new(openrouter, categories):
    ingest_run()
    openrouter.serve(OPENROUTER, listing(launched("acme/quill-3", "Acme: Quill 3")), etag='"v2"')

    [report] = ingest_run()

    assert (report.items, report.created, report.backlog, report.baseline) == (5, 1, 0, False)
    assert by_status() == {
        "new": {"Quill 3"},
        "backlog": {"Llama 3.1 8B Instruct", "Mistral Nemo", "Quill 2", "GPT-4o"},
    }


def test_the_back_catalog_is_listed_and_accepted_in_bulk_the_usual_way(
    openrouter, categories, run_command, django_capture_on_commit_callbacks
):
    ingest_run()
    listed = run_command("ingest", "candidates", "--status", "backlog").splitlines()
    assert sorted(line.split("\t")[2] for line in listed) == [
        "GPT-4o",
        "Llama 3.1 8B Instruct",
        "Mistral Nemo",
        "Quill 2",
    ]
    assert all(line.split("\t")[1] == "backlog" for line in listed)

    ids = [line.split("\t")[0] for line in listed]
    with django_capture_on_commit_callbacks(execute=True):
        out = run_command("ingest", "accept", *ids, "--category", "hosted-models")

    assert out.count("accepted as") == 4
    assert set(Candidate.objects.values_list("status", flat=True)) == {"accepted"}
    assert Tool.objects.count() == 4
    assert panels_queued() == 4  # an editor's acceptance queues the panels, the baseline none


def test_no_baseline_takes_everything_a_new_source_lists_as_new(server, loopback, run_command):
    server.serve(OPENROUTER, listing())
    out = run_command("ingest", "sources", "add", "launches", "--kind", "openrouter",
                      "--url", server.url(OPENROUTER), "--no-baseline")  # fmt: skip
    assert "everything it lists is new" in out

    [report] = ingest_run()

    assert (report.created, report.backlog) == (4, 0)
    assert set(Candidate.objects.values_list("status", flat=True)) == {"new"}


def test_a_baseline_publishes_nothing_even_from_an_autopublishing_source(
    server, loopback, categories, django_capture_on_commit_callbacks
):
    server.serve(OPENROUTER, listing(), etag='"v1"')
    IngestSource.objects.create(
        name="trusted",
        kind="openrouter",
        url=server.url(OPENROUTER),
        autopublish=True,
        category_hint=categories["hosted-models"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        [first] = ingest_run()
    assert (first.backlog, first.accepted) == (4, 0)
    assert not Tool.objects.exists() and panels_queued() == 0

    # After it, a new model is published on its own: a tool and its panel, no editor.
    server.serve(OPENROUTER, listing(launched("acme/quill-3", "Acme: Quill 3")), etag='"v2"')
    with django_capture_on_commit_callbacks(execute=True):
        [second] = ingest_run()
    assert (second.created, second.accepted) == (1, 1)
    assert list(Tool.objects.values_list("name", flat=True)) == ["Quill 3"]
    assert panels_queued() == 1
    # The back catalog still waits for an editor.
    assert Candidate.objects.filter(status=Status.BACKLOG).count() == 4


def test_a_baseline_reads_the_whole_listing_whatever_validators_are_stored(openrouter):
    # Another row read this URL before (a source deleted and added again): its validator
    # would get a 304 and an empty back catalog, so everything after would look new.
    Validator.objects.create(url=openrouter.url(OPENROUTER), etag='"v1"')

    [report] = ingest_run()

    assert report.backlog == 4
    assert "If-None-Match" not in openrouter.seen(OPENROUTER)[0].headers
    ingest_run()  # after the baseline, conditional again: 304
    assert openrouter.seen(OPENROUTER)[1].headers["If-None-Match"] == '"v1"'


def test_a_failed_first_run_leaves_the_baseline_for_the_next(server, loopback):
    source = IngestSource.objects.create(name="later", kind="openrouter", url=server.url("/x"))
    [report] = ingest_run()  # 404
    assert report.error and not report.baseline
    source.refresh_from_db()
    assert source.baseline_at is None

    server.serve("/x", listing())
    [report] = ingest_run()
    assert (report.baseline, report.backlog, report.created) == (True, 4, 0)


def test_an_updates_only_feed_proposes_releases_of_catalog_tools_and_nothing_new(
    server, loopback, categories
):
    vllm = Tool.objects.create(
        name="vLLM",
        slug="vllm",
        category=categories["inference-servers"],
        github_repo="vllm-project/vllm",
    )
    server.serve(RELEASES, fixture("github_releases.atom"))
    server.serve("/other.atom", fixture("vendor_blog.xml"), content_type="application/rss+xml")
    for name, path in [("releases-vllm", RELEASES), ("releases-blog", "/other.atom")]:
        IngestSource.objects.create(name=name, kind="feed", url=server.url(path), updates_only=True)

    reports = {report.name: report for report in ingest_run()}

    [update] = Candidate.objects.all()
    assert (update.tool, update.status) == (vllm, Status.UPDATE)
    assert update.changes == {"release": [None, "v0.14.0"]}
    blog = reports["releases-blog"]
    # Its two readable posts name no catalog tool (the third has no title: skipped).
    assert (blog.ignored, blog.created, blog.backlog, len(blog.problems)) == (2, 0, 0, 1)
