"""Facts with provenance: sources in their real formats, served on loopback, fill a known tool's
facts with where and when they were read; a changed value is proposed, accepted and kept as
history; two sources that disagree are both kept, as a conflict."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from shipwith.catalog.models import FactChange, PriceChange, Tool
from shipwith.catalog.selectors import FactRow, FactSource, fact_history, tool_facts
from shipwith.ingest.decisions import candidate_accept
from shipwith.ingest.models import Candidate, IngestSource, Status
from shipwith.ingest.run import ingest_run
from shipwith.panel.models import PanelRun
from tests.ingest.server import fixture

pytestmark = pytest.mark.django_db

OPENROUTER = "/api/v1/models"
MODELSDEV = "/api.json"
HUB = "/api/models?sort=createdAt&direction=-1&limit=100"
FEED = "/vllm-project/vllm/releases.atom"
REPO = "/repos/vllm-project/vllm"
GPT4O_ON_OPENROUTER = FactSource("https://openrouter.ai/openai/gpt-4o", "OpenRouter model list")


@pytest.fixture
def loopback(settings):
    settings.SHIPWITH_INGEST_ALLOW_PRIVATE = True
    settings.SHIPWITH_INGEST_HOST_DELAY = 0
    settings.SHIPWITH_INGEST_RETRIES = 0
    settings.SHIPWITH_INGEST_READ_TIMEOUT = 2
    settings.SHIPWITH_INGEST_TOTAL_TIMEOUT = 5


def openrouter(**gpt4o_pricing: str) -> bytes:
    """OpenRouter's model list with GPT-4o's prices (USD per token, strings) replaced."""
    document = json.loads(fixture("openrouter_models.json"))
    document["data"][0]["pricing"].update(gpt4o_pricing)
    return json.dumps(document).encode()


def modelsdev(gpt4o_output: float) -> bytes:
    """models.dev's api.json with GPT-4o's output price (USD per 1M tokens) replaced."""
    document = json.loads(fixture("modelsdev_api.json"))
    document["openai"]["models"]["gpt-4o"]["cost"]["output"] = gpt4o_output
    return json.dumps(document).encode()


def run(name: str):
    [report] = ingest_run(names=[name])
    assert not report.error, report.error
    return report


def facts(tool: Tool) -> dict[str, FactRow]:
    return {row.key: row for row in tool_facts(tool.pk)}


def gpt4o() -> Tool:
    return Tool.objects.get(slug="gpt-4o")


@pytest.fixture
def openrouter_source(server, loopback, starter_catalog):
    server.serve(OPENROUTER, openrouter(), etag='"or-1"')
    return IngestSource.objects.create(
        name="openrouter", kind="openrouter", url=server.url(OPENROUTER)
    )


def test_one_openrouter_run_fills_a_known_models_facts_with_source_and_date(openrouter_source):
    run("openrouter")

    rows = facts(gpt4o())
    assert {key: row.value for key, row in rows.items()} == {
        # "0.0000025" and "0.00001" USD per token, per 1M tokens.
        "input_price_per_mtok": Decimal("2.5"),
        "output_price_per_mtok": Decimal("10"),
        "context_window": 128000,
        "max_output_tokens": 16384,
        "input_modalities": ("image", "text"),
        "output_modalities": ("text",),
        "release_date": date(2024, 5, 13),
    }
    assert rows["output_price_per_mtok"].text == "$10 per 1M tokens"
    assert {row.source for row in rows.values()} == {GPT4O_ON_OPENROUTER}
    assert {row.read_at.date() for row in rows.values()} == {timezone.now().date()}
    assert not any(row.conflicts or row.stale for row in rows.values())
    # A reading is not a change: the known model is matched, nothing is proposed.
    candidate = Candidate.objects.get(tool=gpt4o())
    assert (candidate.status, candidate.changes) == (Status.DUPLICATE, {})
    assert gpt4o().entry_price == "$2.50 per 1M input tokens"


def test_a_changed_output_price_is_proposed_and_kept_as_history_when_accepted(
    server, openrouter_source, admin_client, django_capture_on_commit_callbacks
):
    run("openrouter")
    server.serve(OPENROUTER, openrouter(completion="0.000012"), etag='"or-2"')
    run("openrouter")

    update = Candidate.objects.get(tool=gpt4o(), status=Status.UPDATE)
    assert update.changes == {"fact:output_price_per_mtok": ["10", "12"]}
    assert facts(gpt4o())["output_price_per_mtok"].value == 10  # until an editor accepts

    with django_capture_on_commit_callbacks(execute=True):
        candidate_accept(candidate_id=update.pk)

    row = facts(gpt4o())["output_price_per_mtok"]
    assert (row.value, row.source, row.conflicts) == (Decimal("12"), GPT4O_ON_OPENROUTER, ())
    [change] = [h for h in fact_history(gpt4o().pk) if h.key == "output_price_per_mtok" and h.old]
    assert (change.text, change.source) == ("$10 → $12 per 1M tokens", GPT4O_ON_OPENROUTER)
    assert PanelRun.objects.filter(tool=gpt4o()).count() == 1  # a price change: re-reviewed
    assert not PriceChange.objects.exists()  # the entry price ($2.50 per 1M input) stays
    page = admin_client.get(f"/admin/catalog/tool/{gpt4o().pk}/change/").content.decode()
    assert "$10 → $12 per 1M tokens" in page

    # Readers see it where they look: the tool page, the API and the verdicts feed.
    slug = gpt4o().slug
    tool_page = admin_client.get(f"/tools/{slug}/").content.decode()
    assert "$10 → $12 per 1M tokens since" in tool_page
    history = admin_client.get(f"/api/v1/tools/{slug}/facts/history").json()
    assert {"key": "output_price_per_mtok", "old": 10, "new": 12} in [
        {k: h[k] for k in ("key", "old", "new")} for h in history
    ]
    feed = admin_client.get("/feeds/verdicts.atom").content.decode()
    assert "$10 → $12 per 1M tokens, as OpenRouter model list says" in feed

    # The next run reads the same listing (304): nothing is proposed again.
    run("openrouter")
    assert not Candidate.objects.filter(status=Status.UPDATE).exists()


def test_a_trusted_source_applies_a_changed_fact_without_an_editor(server, openrouter_source):
    IngestSource.objects.filter(pk=openrouter_source.pk).update(autopublish=True)
    run("openrouter")
    server.serve(OPENROUTER, openrouter(completion="0.000012"), etag='"or-2"')
    report = run("openrouter")

    assert report.accepted == 1
    assert facts(gpt4o())["output_price_per_mtok"].value == Decimal("12")
    change = FactChange.objects.get(tool=gpt4o(), key="output_price_per_mtok", old="10")
    assert (change.new, change.source_url) == ("12", GPT4O_ON_OPENROUTER.url)
    assert Candidate.objects.get(tool=gpt4o()).status == Status.ACCEPTED


def test_a_second_source_that_disagrees_is_kept_as_a_conflict(
    server, openrouter_source, admin_client
):
    run("openrouter")
    server.serve(MODELSDEV, modelsdev(gpt4o_output=12), etag='"md-1"')
    IngestSource.objects.create(name="models-dev", kind="modelsdev", url=server.url(MODELSDEV))
    run("models-dev")

    rows = facts(gpt4o())
    output = rows["output_price_per_mtok"]
    said = {(output.value, output.source.url)} | {(c.value, c.source.url) for c in output.conflicts}
    assert said == {
        (Decimal("10"), "https://openrouter.ai/openai/gpt-4o"),
        (Decimal("12"), "https://models.dev/providers/openai"),
    }
    # Where they agree there is no conflict.
    assert rows["input_price_per_mtok"].conflicts == ()
    modalities = rows["input_modalities"]
    assert {modalities.value, *(c.value for c in modalities.conflicts)} == {
        ("image", "text"),
        ("image", "pdf", "text"),
    }
    # A first reading from a second source is no change of the tool: nothing to accept.
    assert not Candidate.objects.filter(tool=gpt4o(), status=Status.UPDATE).exists()
    page = admin_client.get(f"/admin/catalog/tool/{gpt4o().pk}/change/").content.decode()
    assert "Other sources say" in page and "$10 per 1M tokens" in page
    assert "$12 per 1M tokens" in page


def test_the_hub_fills_licence_downloads_and_parameters(server, loopback, categories):
    llama = Tool.objects.create(
        name="Llama 3.1 8B Instruct",
        slug="llama-3-1-8b-instruct",
        category=categories["open-weight-models"],
        licence="Llama 3.1 Community License",
        licence_kind="open_weights",
        huggingface_id="meta-llama/llama-3.1-8b-instruct",
    )
    server.serve(HUB, fixture("huggingface_models.json"), etag='W/"hf-1"')
    IngestSource.objects.create(name="hf-hub", kind="huggingface", url=server.url(HUB))
    run("hf-hub")

    rows = facts(llama)
    assert {key: row.value for key, row in rows.items()} == {
        "parameters": Decimal("8.03"),
        "open_weights": True,
        "licence": "Llama 3.1 Community License",
        "release_date": date(2024, 7, 18),
        "hf_downloads": 5210334,
    }
    assert rows["parameters"].text == "8.03B"
    assert {row.source for row in rows.values()} == {
        FactSource("https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct", "Hugging Face Hub")
    }

    # Downloads move on every read: the latest count is kept, with no history and no proposal.
    document = json.loads(fixture("huggingface_models.json"))
    document[2]["downloads"] = 5300000
    server.serve(HUB, json.dumps(document).encode(), etag='W/"hf-2"')
    run("hf-hub")
    assert facts(llama)["hf_downloads"].value == 5300000
    assert not FactChange.objects.filter(key="hf_downloads").exists()
    assert not Candidate.objects.filter(tool=llama, status=Status.UPDATE).exists()


def newer_release_feed() -> bytes:
    """vLLM's releases.atom with a v0.15.0 entry on top."""
    atom = fixture("github_releases.atom").decode()
    entry = atom[atom.index("  <entry>") : atom.index("</entry>") + len("</entry>\n")]
    newer = entry.replace("v0.14.0", "v0.15.0").replace(
        "2026-11-27T18:21:05Z", "2026-12-03T10:00:00Z"
    )
    return atom.replace(entry, newer + entry, 1).encode()


def test_a_release_feed_and_the_github_api_fill_the_latest_release(
    server, loopback, starter_catalog
):
    server.serve(FEED, fixture("github_releases.atom"), etag='W/"feed-1"')
    server.serve(REPO, fixture("github_repo.json"))
    server.serve(f"{REPO}/releases/latest", fixture("github_release_latest.json"))
    IngestSource.objects.create(name="vllm-releases", kind="feed", url=server.url(FEED))
    IngestSource.objects.create(name="vllm-repo", kind="github", url=server.url(REPO))
    run("vllm-releases")
    run("vllm-repo")

    vllm = Tool.objects.get(slug="vllm")
    rows = facts(vllm)
    assert (rows["latest_release"].value, rows["latest_release_date"].value) == (
        "v0.14.0",
        date(2026, 11, 27),
    )
    # Both sources say so: the releases page and the repository agree, no conflict.
    readings = {rows["latest_release"].source} | {
        c.source for c in rows["latest_release"].conflicts
    }
    assert rows["latest_release"].conflicts == ()
    assert readings <= {
        FactSource("https://github.com/vllm-project/vllm/releases", "vllm-releases"),
        FactSource("https://github.com/vllm-project/vllm", "GitHub repository"),
    }
    assert rows["github_stars"].value == 61234 and rows["licence"].value == "Apache-2.0"

    # A new release in the feed: the releases page's reading changes, proposed with the note.
    server.serve(FEED, newer_release_feed(), etag='W/"feed-2"')
    run("vllm-releases")
    update = Candidate.objects.get(tool=vllm, status=Status.UPDATE)
    assert update.changes["fact:latest_release"] == ["v0.14.0", "v0.15.0"]
    assert update.changes["fact:latest_release_date"] == ["2026-11-27", "2026-12-03"]
    candidate_accept(candidate_id=update.pk)
    assert facts(vllm)["latest_release"].conflicts[0].value == "v0.14.0"  # the API's, not re-read
    assert any(h.text == "v0.14.0 → v0.15.0" for h in fact_history(vllm.pk))


def test_a_value_the_registry_refuses_is_that_items_problem_and_the_rest_are_stored(
    server, loopback, starter_catalog
):
    document = json.loads(fixture("openrouter_models.json"))
    document["data"][1]["top_provider"]["max_completion_tokens"] = 0.5
    document["data"][2]["pricing"]["completion"] = "-0.00001"
    server.serve(OPENROUTER, json.dumps(document).encode())
    IngestSource.objects.create(  # past its baseline: what it lists is new
        name="openrouter", kind="openrouter", url=server.url(OPENROUTER), baseline_at=timezone.now()
    )

    report = run("openrouter")

    assert report.problems == [
        "source 'openrouter', item 'meta-llama/llama-3.1-8b-instruct': "
        "top_provider.max_completion_tokens 0.5 is not a whole number",
        "source 'openrouter', item 'mistralai/mistral-nemo': "
        "pricing.completion '-0.00001' is negative",
    ]
    assert IngestSource.objects.get(name="openrouter").failures_in_row == 0
    assert facts(gpt4o())["output_price_per_mtok"].value == Decimal("10")
    assert Candidate.objects.filter(name="Quill 2", status=Status.NEW).exists()
