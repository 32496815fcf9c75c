"""The default sources: a data file in the package, added once to a database with no sources."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from shipwith.catalog.models import Tool
from shipwith.ingest.defaults import PACKAGED, defaults_read, sources_add_defaults
from shipwith.ingest.errors import IngestError
from shipwith.ingest.models import IngestSource

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def defaults_on(settings):
    settings.SHIPWITH_INGEST_DEFAULTS = True  # the suite turns them off (tests/conftest.py)
    settings.SHIPWITH_INGEST_DEFAULTS_FILE = ""


def rows() -> dict[str, IngestSource]:
    return {source.name: source for source in IngestSource.objects.all()}


def test_an_empty_database_gets_the_packaged_sources_once(starter_catalog):
    report = sources_add_defaults()

    added = rows()
    repos = set(Tool.objects.exclude(github_repo="").values_list("slug", "github_repo"))
    shared = {"openrouter-models", "models-dev", "huggingface-trending", "show-hn-ai"}
    assert set(added) == shared | {f"releases-{slug}" for slug, _ in repos}
    assert report.per_tool == len(repos) > 10
    assert str(report).startswith(f"added {len(added)} default sources (openrouter-models, ")
    assert f"{len(repos)} for catalog tools) from {PACKAGED}" in str(report)
    # Nothing is read yet: each is due at once, and its first run is a baseline.
    assert all(s.next_run_at is None and s.baseline_at is None for s in added.values())
    assert not any(s.autopublish for s in added.values())

    # Not again: an editor's sources (or their deletions) are left alone.
    IngestSource.objects.filter(name="models-dev").delete()
    assert sources_add_defaults() is None
    assert set(rows()) == set(added) - {"models-dev"}


def test_each_default_source_reads_its_service_documented_url(starter_catalog):
    sources_add_defaults()
    added = rows()

    assert added["openrouter-models"].url == "https://openrouter.ai/api/v1/models"
    assert added["models-dev"].url == "https://models.dev/api.json"
    hub = urlsplit(added["huggingface-trending"].url)
    assert (hub.netloc, hub.path) == ("huggingface.co", "/api/models")
    assert parse_qs(hub.query) == {
        "pipeline_tag": ["text-generation"],
        "sort": ["trendingScore"],
        "direction": ["-1"],
        "limit": ["100"],
    }
    assert added["huggingface-trending"].options["min_likes"] == 100
    hn = urlsplit(added["show-hn-ai"].url)
    assert (hn.netloc, hn.path) == ("hn.algolia.com", "/api/v1/search_by_date")
    assert parse_qs(hn.query)["tags"] == ["show_hn"]
    assert parse_qs(hn.query)["numericFilters"] == ["points>=20"]
    assert added["show-hn-ai"].options == {"min_points": 20}
    assert added["show-hn-ai"].every == dt.timedelta(minutes=15)
    assert added["openrouter-models"].every == dt.timedelta(hours=1)

    vllm = added["releases-vllm"]
    assert vllm.kind == "feed" and vllm.updates_only
    assert vllm.url == "https://github.com/vllm-project/vllm/releases.atom"
    assert vllm.every == dt.timedelta(hours=6)


def test_defaults_off_adds_none(settings, starter_catalog):
    settings.SHIPWITH_INGEST_DEFAULTS = False
    report = sources_add_defaults()
    assert str(report) == "no default sources (SHIPWITH_INGEST_DEFAULTS=0)"
    assert not IngestSource.objects.exists()


def test_a_file_of_the_same_format_replaces_the_packaged_one(settings, tmp_path, categories):
    Tool.objects.create(
        name="vLLM", slug="vllm", category=categories["inference-servers"], github_repo="a/vllm"
    )
    path = tmp_path / "sources.yaml"
    path.write_text(
        """
sources:
  - name: launches
    kind: feed
    url: http://127.0.0.1:9/launches.xml
    category: inference-servers
    baseline: false
    every: 30s
  - name: "{slug}-repo"
    kind: github
    url: "http://127.0.0.1:9/repos/{github_repo}"
    for_each_tool: github_repo
""",
        encoding="utf-8",
    )
    settings.SHIPWITH_INGEST_DEFAULTS_FILE = str(path)

    sources_add_defaults()

    added = rows()
    assert set(added) == {"launches", "vllm-repo"}
    assert added["launches"].baseline_at is not None  # everything it lists is new
    assert added["launches"].every == dt.timedelta(seconds=30)
    assert added["launches"].category_hint.slug == "inference-servers"
    assert added["vllm-repo"].url == "http://127.0.0.1:9/repos/a/vllm"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources:\n  - {name: x, kind: feed, url: 'http://a.example/', colour: red}\n",
         "source 2, colour: Extra inputs are not permitted"),
        ("sources:\n  - {name: x, kind: gopher}\n", "unknown kind 'gopher'"),
        ("sources:\n  - {name: x, kind: hackernews, options: {min_pints: 3}}\n",
         "hackernews sources have no option min_pints"),
        ("sources:\n  - {name: x, kind: openrouter, every: soon}\n",
         "interval 'soon' is not a duration like 30s, 15m, 1h or 1d"),
        ("sources: [\n", "not YAML"),
    ],
)  # fmt: skip
def test_a_file_that_does_not_fit_is_refused_whole_with_its_name(
    settings, tmp_path, db, text, message
):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "sources:\n  - {name: fine, kind: openrouter}\n" + text.removeprefix("sources:\n")
        if text.startswith("sources:\n")
        else text,
        encoding="utf-8",
    )
    settings.SHIPWITH_INGEST_DEFAULTS_FILE = str(path)
    with pytest.raises(IngestError, match=rf"^default sources {path}: .*") as refused:
        sources_add_defaults()
    assert message in str(refused.value)
    assert not IngestSource.objects.exists()  # all or none


def test_the_packaged_file_says_why_for_each_threshold():
    text = PACKAGED.read_text(encoding="utf-8")
    assert [entry.name for entry in defaults_read(PACKAGED)] == [
        "openrouter-models",
        "models-dev",
        "huggingface-trending",
        "show-hn-ai",
        "releases-{slug}",
    ]
    assert "a few dozen candidates a day" in text and "100 likes" in text and "20 points" in text
