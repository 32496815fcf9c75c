"""A GitHub repository through the REST API: the repository and its latest release."""

from datetime import date

import pytest
from django.utils import timezone

from shipwith.ingest.adapters import adapter_for
from shipwith.ingest.adapters.base import SourceFormatError
from shipwith.ingest.adapters.github import api_url
from shipwith.ingest.items import Item
from shipwith.ingest.models import Candidate, IngestSource, Mention, Validator
from shipwith.ingest.run import ingest_run
from tests.ingest.server import FixtureServer, Reply, fixture

REPO = "/repos/vllm-project/vllm"
TOKEN = "ghp_0123456789abcdefTESTTOKEN"


def serve(server, *, release=True):
    server.serve(REPO, fixture("github_repo.json"), etag='"repo-1"')
    if release:
        server.serve(
            f"{REPO}/releases/latest", fixture("github_release_latest.json"), etag='"rel-1"'
        )
    else:
        server.route(f"{REPO}/releases/latest", Reply(status=404, body=b'{"message": "Not Found"}'))


def run(server, fetcher, path=REPO):
    return list(adapter_for("github")(url=server.url(path), options={}, fetcher=fetcher).items())


def test_repository_and_latest_release(server, fetcher):
    serve(server)
    [item] = run(server, fetcher)

    assert isinstance(item, Item)
    assert (item.key, item.name, item.vendor) == ("vllm-project/vllm", "vllm", "vllm-project")
    assert item.identifiers.github == "vllm-project/vllm"
    assert item.identifiers.domain == "docs.vllm.ai"
    assert item.facts.licence == "Apache-2.0" and item.facts.licence_kind == "open_source"
    assert item.facts.homepage == "https://docs.vllm.ai"
    assert "llm-serving" in item.facts.tags
    assert item.release == "v0.14.0"
    assert item.seen_at.isoformat() == "2026-11-27T18:21:05+00:00"
    assert item.facts.github_stars == 61234
    assert (item.facts.latest_release, item.facts.latest_release_date) == (
        "v0.14.0",
        date(2026, 11, 27),
    )
    assert server.seen(REPO)[0].headers["Accept"] == "application/vnd.github+json"
    assert "Authorization" not in server.seen(REPO)[0].headers  # no token configured


def test_repository_without_releases(server, fetcher):
    serve(server, release=False)
    [item] = run(server, fetcher)
    assert item.release is None and item.seen_at.isoformat() == "2023-02-09T11:23:20+00:00"
    assert item.facts.latest_release is None and item.facts.latest_release_date is None


def test_noassertion_licence_is_unknown_not_a_licence(server, fetcher):
    server.serve("/repos/acme-labs/agentkit", fixture("github_repo_noassertion.json"))
    server.route("/repos/acme-labs/agentkit/releases/latest", Reply(status=404, body=b"{}"))
    [item] = run(server, fetcher, "/repos/acme-labs/agentkit")
    assert item.facts.licence is None and item.facts.licence_kind is None
    assert item.facts.homepage == "https://github.com/acme-labs/agentkit"
    assert item.identifiers.domain is None and item.facts.description is None


def test_unchanged_repository_and_release_yield_nothing(server, fetcher):
    serve(server)
    run(server, fetcher)
    assert run(server, fetcher) == []


def test_new_release_of_an_unchanged_repository_is_reported(server, fetcher):
    serve(server)
    run(server, fetcher)
    newer = fixture("github_release_latest.json").replace(b"v0.14.0", b"v0.15.0")
    server.serve(f"{REPO}/releases/latest", newer, etag='"rel-2"')
    [item] = run(server, fetcher)
    assert item.release == "v0.15.0" and item.facts.licence == "Apache-2.0"


def test_page_urls_become_api_urls():
    assert (
        api_url("https://github.com/vllm-project/vllm")
        == "https://api.github.com/repos/vllm-project/vllm"
    )
    assert (
        api_url("https://github.com/Vllm-Project/vllm/")
        == "https://api.github.com/repos/vllm-project/vllm"
    )
    with pytest.raises(SourceFormatError, match="not a GitHub repository URL"):
        api_url("https://gitlab.com/acme/tool")


@pytest.fixture
def elsewhere():
    """A second host (127.0.0.2) that redirects from the API host may point at."""
    with FixtureServer("127.0.0.2") as running:
        yield running


def authorization(requests) -> list[tuple[str, str | None]]:
    return [(request.path, request.headers.get("Authorization")) for request in requests]


def test_the_token_goes_to_the_api_host_and_never_to_another(server, elsewhere, fetcher, settings):
    settings.SHIPWITH_GITHUB_TOKEN = TOKEN
    settings.SHIPWITH_GITHUB_TOKEN_HOSTS = ["127.0.0.1"]  # this test's API host
    # A renamed repository answers 301 with its new API URL on the same host; the latest
    # release here has moved to another host.
    server.route(REPO, Reply(redirect="/repositories/599547518", status=301))
    server.serve("/repositories/599547518", fixture("github_repo.json"))
    server.route(f"{REPO}/releases/latest", Reply(redirect=elsewhere.url("/latest"), status=302))
    elsewhere.serve("/latest", fixture("github_release_latest.json"))

    [item] = run(server, fetcher)
    # A page fetch through the same Fetcher, to the API host itself: no token either.
    server.serve("/vllm/", b"<p>vLLM</p>", content_type="text/html")
    fetcher.get(server.url("/vllm/"), expect="html", robots=True)

    assert item.release == "v0.14.0"
    assert authorization(server.requests) == [
        (REPO, f"Bearer {TOKEN}"),
        ("/repositories/599547518", f"Bearer {TOKEN}"),
        (f"{REPO}/releases/latest", f"Bearer {TOKEN}"),
        ("/robots.txt", None),
        ("/vllm/", None),
    ]
    assert authorization(elsewhere.requests) == [("/latest", None)]


def test_a_source_on_a_host_not_listed_is_read_without_the_token(server, fetcher, settings):
    settings.SHIPWITH_GITHUB_TOKEN = TOKEN  # SHIPWITH_GITHUB_TOKEN_HOSTS: api.github.com only
    serve(server)
    [item] = run(server, fetcher)
    assert item.release == "v0.14.0"
    assert {header for _, header in authorization(server.requests)} == {None}


@pytest.mark.django_db
def test_the_token_is_never_stored_or_reported(server, elsewhere, settings, caplog):
    settings.SHIPWITH_GITHUB_TOKEN = TOKEN
    settings.SHIPWITH_GITHUB_TOKEN_HOSTS = ["127.0.0.1"]
    settings.SHIPWITH_INGEST_ALLOW_PRIVATE = True
    settings.SHIPWITH_INGEST_HOST_DELAY = 0
    settings.SHIPWITH_INGEST_RETRIES = 0
    serve(server)
    server.route("/repos/acme-labs/agentkit", Reply(redirect=elsewhere.url("/gone"), status=301))
    elsewhere.route("/gone", Reply(status=401, body=b'{"message": "Bad credentials"}'))
    for name, path in [("vllm", REPO), ("agentkit", "/repos/acme-labs/agentkit")]:
        IngestSource.objects.create(
            name=name, kind="github", url=server.url(path), baseline_at=timezone.now()
        )

    good, bad = ingest_run(names=["vllm", "agentkit"])

    assert not good.error and good.created == 1
    assert bad.error.startswith("source 'agentkit': FetchError: ") and "HTTP 401" in bad.error
    assert server.seen(REPO)[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert authorization(elsewhere.requests) == [("/gone", None)]
    rows = [list(model.objects.values()) for model in (IngestSource, Candidate, Mention, Validator)]
    assert all(rows) and TOKEN not in repr(rows)
    assert TOKEN not in caplog.text and TOKEN not in str(good) + str(bad)
