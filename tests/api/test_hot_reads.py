"""Hot reads: served from the process's page cache ahead of ninja, answered as the view would."""

import concurrent.futures

import httpx
import pytest

from shipwith.core.freshness import tools_touch
from shipwith.web import caching
from tests.votes.live import live_site

pytestmark = pytest.mark.django_db

HOT = [
    "/api/v1/tools",
    "/api/v1/tools?limit=100",
    "/api/v1/tools/vllm",
    "/api/v1/tools/vllm/facts/history",
    "/api/v1/comparisons",
    "/api/v1/comparisons/ollama-vs-vllm",
    "/api/v1/categories",
    "/api/v1/leaderboard",
    "/api/v1/changes?since=2026-01-01T00:00:00Z",
]
FROM_A_BROWSER = {"HTTP_ORIGIN": "https://vendor.example"}


def early(response) -> bool:
    """Whether the answer came before URL resolution (the view's path resolves the URL)."""
    return response.wsgi_request.resolver_match is None


@pytest.mark.parametrize("url", HOT)
def test_a_hot_read_answers_as_the_view_does(client, catalog, url):
    client.get(url)  # rendered and kept
    caching._local.clear()  # so the next one goes through ninja to the shared cache
    through_view = client.get(url, **FROM_A_BROWSER)
    hot = client.get(url, **FROM_A_BROWSER)
    assert not early(through_view) and early(hot)
    assert hot.status_code == through_view.status_code == 200
    assert hot.content == through_view.content
    assert dict(hot.headers) == dict(through_view.headers)
    assert hot["Access-Control-Allow-Origin"] == "*" and hot["Vary"].lower() == "origin"
    assert hot["Cache-Control"] == "public, max-age=0, must-revalidate"


def test_a_hot_read_answers_304_and_head_like_the_view(client, catalog):
    first = client.get("/api/v1/tools/vllm")
    again = client.get("/api/v1/tools/vllm", HTTP_IF_NONE_MATCH=first["ETag"])
    assert early(again)
    assert again.status_code == 304 and again["ETag"] == first["ETag"]
    head = client.head("/api/v1/tools/vllm")
    assert early(head) and head.content == b""
    assert int(head["Content-Length"]) == len(first.content)


def test_a_touched_tool_is_rendered_again_not_served_early(client, catalog):
    client.get("/api/v1/tools/vllm")
    tools_touch(catalog["vllm"].pk)
    after = client.get("/api/v1/tools/vllm")
    assert not early(after) and after.status_code == 200
    assert early(client.get("/api/v1/tools/vllm"))  # the new copy is served early in turn


def test_hot_reads_count_against_the_clients_rate(client, catalog, api_settings):
    api_settings.SHIPWITH_API_RATE = "3/m"
    assert client.get("/api/v1/tools", REMOTE_ADDR="10.7.7.7").status_code == 200
    hot = [client.get("/api/v1/tools", REMOTE_ADDR="10.7.7.7", **FROM_A_BROWSER) for _ in range(3)]
    assert [early(r) for r in hot[:2]] == [True, True]
    assert [r.status_code for r in hot] == [200, 200, 429]
    assert int(hot[2]["Retry-After"]) >= 1
    # A browser's script may read why and how long to wait.
    assert hot[2]["Access-Control-Allow-Origin"] == "*" and hot[2]["Vary"].lower() == "origin"
    assert "Retry-After" in hot[2]["Access-Control-Expose-Headers"]


def test_hot_reads_on_several_processes_never_pass_the_limit(tmp_path):
    """gunicorn's workers each claim hits in blocks: together they never let more through."""
    limit = 200  # counted in blocks of 2 (a hundredth of it)
    env = {"SHIPWITH_API_RATE": f"{limit}/d"}  # a day's window: the test never spans two
    with live_site(tmp_path, tools=2, workers=3, env=env) as site:
        with httpx.Client(base_url=site.url) as warm:
            assert warm.get("/api/v1/tools").status_code == 200

        def read(_: int) -> httpx.Response:
            # A connection per request spreads them over the workers.
            return httpx.get(f"{site.url}/api/v1/tools", headers={"Connection": "close"})

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(read, range(limit + 20)))
    statuses = [answer.status_code for answer in answers]
    allowed = statuses.count(200) + 1  # and the warm-up
    assert set(statuses) == {200, 429}
    # Never past the limit; refused early only by the numbers the three workers still hold
    # (one each at most: their threads' blocks of two are never dropped).
    assert limit - 3 <= allowed <= limit
