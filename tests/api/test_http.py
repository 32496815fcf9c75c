"""HTTP behaviour every client relies on: validators and 304s, CORS, rate limits, error shape."""

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from shipwith.api import selectors as api_selectors
from shipwith.core.freshness import tools_touch
from tests.factories import make_personas, make_review

pytestmark = pytest.mark.django_db

READS = [
    "/api/v1/tools",
    "/api/v1/tools/vllm",
    "/api/v1/comparisons",
    "/api/v1/comparisons/ollama-vs-vllm",
    "/api/v1/categories",
    "/api/v1/leaderboard",
    "/api/v1/changes?since=2026-01-01T00:00:00Z",
    "/api/v1/openapi.json",
    "/api/v1/docs",
]


@pytest.mark.parametrize("url", READS)
def test_every_read_answers_304_while_unchanged(client, catalog, url):
    first = client.get(url)
    assert first.status_code == 200
    assert first["ETag"].startswith('"') and first["Last-Modified"]
    assert "max-age" in first["Cache-Control"] and "public" in first["Cache-Control"]
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]


@pytest.mark.parametrize("url", READS)
def test_head_answers_like_get_without_a_body(client, catalog, url):
    head = client.head(url)  # first: a cold HEAD renders the page like a cold GET
    get = client.get(url)
    assert head.status_code == get.status_code == 200
    assert dict(head.headers) == dict(get.headers)
    assert int(head["Content-Length"]) == len(get.content) > 0
    assert head.content == b""
    again = client.head(url, HTTP_IF_NONE_MATCH=get["ETag"])
    assert again.status_code == 304 and again["ETag"] == get["ETag"]


def test_the_app_hands_the_server_no_body_for_head(catalog):
    """Not left to the server: Django's ASGI handler, for one, sends whatever it is given."""
    response = WSGIHandler().get_response(RequestFactory().head("/api/v1/tools/vllm"))
    assert response.status_code == 200
    assert response.content == b"" and int(response["Content-Length"]) > 100


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/tools/no-such-tool", 404),
        ("/api/v1/tools?limit=0", 422),
        ("/api/v1/comparisons/vllm-vs-ollama", 301),
        ("/api/v1/panel-runs/1", 401),  # an editors' GET: HEAD needs the token too
    ],
)
def test_head_gets_the_status_a_get_would(client, catalog, url, status):
    head, get = client.head(url), client.get(url)
    assert head.status_code == get.status_code == status
    assert head["Content-Type"] == get["Content-Type"] and head.content == b""


def test_head_is_no_way_into_a_write(client, catalog):
    response = client.head("/api/v1/tools/vllm/panel-runs")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    # A read says it takes HEAD as well as GET.
    assert "HEAD" in client.delete("/api/v1/categories")["Allow"].split(", ")


def test_head_is_open_to_any_origin_and_counts_against_the_rate(client, catalog, api_settings):
    response = client.head("/api/v1/tools", HTTP_ORIGIN="https://vendor.example")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]
    api_settings.SHIPWITH_API_RATE = "3/m"
    client.get("/api/v1/categories", REMOTE_ADDR="10.9.9.9")
    assert client.head("/api/v1/categories", REMOTE_ADDR="10.9.9.9").status_code == 200
    assert client.head("/api/v1/tools", REMOTE_ADDR="10.9.9.9").status_code == 200
    limited = client.head("/api/v1/tools", REMOTE_ADDR="10.9.9.9")
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert client.get("/api/v1/tools", REMOTE_ADDR="10.9.9.9").status_code == 429


def test_a_new_review_changes_the_etag_of_the_tool(client, catalog):
    first = client.get("/api/v1/tools/vllm")
    make_review(catalog["vllm"], make_personas()[0], "skip")
    tools_touch(catalog["vllm"].pk)
    after = client.get("/api/v1/tools/vllm", HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != first["ETag"]
    assert after.json()["panel"]["ships"] == 3


def test_reads_are_open_to_any_origin(client, catalog):
    response = client.get("/api/v1/tools", HTTP_ORIGIN="https://vendor.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]
    preflight = client.options(
        "/api/v1/tools",
        HTTP_ORIGIN="https://vendor.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match",
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert "POST" not in preflight["Access-Control-Allow-Methods"]


def test_pages_outside_the_api_get_no_cors(client, catalog):
    response = client.get("/tools/vllm/", HTTP_ORIGIN="https://vendor.example")
    assert "Access-Control-Allow-Origin" not in response


def test_a_client_over_its_rate_gets_429_with_retry_after(client, catalog, api_settings):
    api_settings.SHIPWITH_API_RATE = "3/m"
    for _ in range(3):
        assert client.get("/api/v1/categories").status_code == 200
    response = client.get("/api/v1/tools/vllm", HTTP_IF_NONE_MATCH='"x"')
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    error = response.json()["error"]
    assert error["code"] == "rate_limited" and "retry in" in error["message"]
    # Another client is counted apart.
    assert client.get("/api/v1/categories", REMOTE_ADDR="10.1.2.3").status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/v1/no-such-endpoint", 404),
        ("get", "/api/v1/comparisons/vllm", 404),
        ("delete", "/api/v1/categories", 405),
        ("post", "/api/v1/tools/vllm/panel-runs", 401),
    ],
)
def test_every_error_has_one_shape(client, catalog, method, url, status):
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"status", "code", "message", "details"}
    assert body["error"]["status"] == status and body["error"]["message"]


def test_a_crash_is_a_500_in_the_error_shape_without_a_traceback(client, catalog, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api_selectors, "tools_listing", broken)
    client.raise_request_exception = False
    response = client.get("/api/v1/tools?q=crash")
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "server_error"
    assert "secret internals" not in response.content.decode()


def test_the_schema_and_the_docs_page_come_from_our_own_files(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "shipwith API"
    assert "/api/v1/tools/{slug}" in schema["paths"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn." not in html and "https://" not in html.split("<body")[0]
    assert "script-src 'self'" in page["Content-Security-Policy"]


@pytest.mark.parametrize("value", ["300", "fast", "0/m", "300/week"])
def test_a_rate_the_limiter_cannot_read_stops_the_start(api_settings, value):
    from shipwith.core.checks import settings_check

    api_settings.SHIPWITH_API_RATE = value
    (error,) = settings_check()
    assert "SHIPWITH_API_RATE" in error.msg and repr(value) in error.msg


@pytest.mark.parametrize(
    "url",
    ["/api/v1/tools", "/api/v1/tools?category=inference-servers", "/api/v1/comparisons"],
)
def test_readers_votes_show_in_the_lists_at_once(
    client, catalog, url, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from shipwith.comparisons.models import Comparison
    from shipwith.votes.services import vote_cast, voter_create

    Comparison.objects.create(
        tool_a=catalog["ollama"], tool_b=catalog["vllm"], published_at=timezone.now()
    )

    def vllm_votes() -> int:
        body = client.get(url).json()
        cards = [item for item in body["items"] if "slug" in item and item["slug"] == "vllm"]
        cards += [item["b"] for item in body["items"] if "b" in item]
        return cards[0]["community"]["votes"]

    assert vllm_votes() == 0
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            vote_cast(voter_id=voter_create().pk, tool_id=catalog["vllm"].pk, value="ship")
    assert vllm_votes() == 3
