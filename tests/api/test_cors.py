"""CORS as docs/api.md promises it: reads open to any origin, preflights for reads, `Vary: Origin`."""

import pytest

pytestmark = pytest.mark.django_db

VENDOR = {"HTTP_ORIGIN": "https://vendor.example"}
EXPOSED = "ETag, Last-Modified, Retry-After"


def test_a_preflight_is_answered_with_what_reads_may_send(client, catalog):
    preflight = client.options(
        "/api/v1/tools/vllm",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match",
        **VENDOR,
    )
    assert preflight.status_code == 200 and preflight.content == b""
    assert preflight["Content-Length"] == "0"
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert preflight["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert preflight["Access-Control-Allow-Headers"] == "accept, if-none-match, if-modified-since"
    assert preflight["Access-Control-Max-Age"] == "86400"
    assert preflight["Access-Control-Expose-Headers"] == EXPOSED
    assert preflight["Vary"].lower() == "origin"


def test_a_preflight_for_a_write_is_offered_reads_only(client, catalog):
    preflight = client.options("/api/v1/tools", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST", **VENDOR)
    assert "POST" not in preflight["Access-Control-Allow-Methods"]
    assert "authorization" not in preflight["Access-Control-Allow-Headers"]


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/v1/tools", 200),
        ("head", "/api/v1/tools/vllm", 200),
        ("get", "/api/v1/no-such-endpoint", 404),
        ("get", "/api/v1/tools?limit=0", 422),
        ("post", "/api/v1/tools", 401),
        ("options", "/api/v1/tools", 405),  # no Access-Control-Request-Method: not a preflight
    ],
)
def test_every_api_answer_to_another_origin_is_readable_by_it(client, catalog, method, url, status):
    response = getattr(client, method)(url, **VENDOR)
    assert response.status_code == status
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Expose-Headers"] == EXPOSED
    assert response["Vary"].lower() == "origin"


def test_without_an_origin_only_vary_is_said(client, catalog):
    response = client.get("/api/v1/tools")
    # A shared cache keeps the answers to browsers apart.
    assert response["Vary"].lower() == "origin"
    assert "Access-Control-Allow-Origin" not in response


def test_an_origin_that_is_no_url_gets_no_cors_answer(client, catalog):
    response = client.get("/api/v1/categories", HTTP_ORIGIN="http://[::1")
    assert response.status_code == 200 and response["Vary"].lower() == "origin"
    assert "Access-Control-Allow-Origin" not in response


def test_pages_and_their_preflights_get_no_cors(client, catalog):
    page = client.get("/tools/vllm/", **VENDOR)
    assert "Access-Control-Allow-Origin" not in page
    assert "origin" not in page.get("Vary", "").lower()
    preflight = client.options("/tools/vllm/", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET", **VENDOR)
    assert "Access-Control-Allow-Origin" not in preflight
