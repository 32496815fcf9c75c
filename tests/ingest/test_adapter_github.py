"""A GitHub repository through the REST API: the repository and its latest release."""

import pytest

from shipwith.ingest.adapters import adapter_for
from shipwith.ingest.adapters.base import SourceFormatError
from shipwith.ingest.adapters.github import api_url
from shipwith.ingest.items import Item
from tests.ingest.server import Reply, fixture

REPO = "/repos/vllm-project/vllm"


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
    assert server.seen(REPO)[0].headers["Accept"] == "application/vnd.github+json"


def test_repository_without_releases(server, fetcher):
    serve(server, release=False)
    [item] = run(server, fetcher)
    assert item.release is None and item.seen_at.isoformat() == "2023-02-09T11:23:20+00:00"


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
