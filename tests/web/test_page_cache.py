"""Cached pages: served without queries, re-rendered on a touch, ETag/Last-Modified and 304s."""

import re
import time

import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext

from shipwith.core.freshness import tools_touch
from shipwith.web import caching
from shipwith.web.caching import CSRF_MARKER, PROXY_HEADER
from tests.web.factories import make_panel, make_personas, make_review, make_tool

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    a, b = make_tool("alpha"), make_tool("beta")
    make_panel(a, "ssss")
    make_panel(b, "skkk")
    return a, b


def without_tokens(body: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", body)


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(captured)


@pytest.mark.parametrize("url", ["/", "/tools/alpha/", "/compare/alpha-vs-beta/"])
def test_second_request_is_served_from_cache_without_queries(client, pair, url):
    first, _ = queries(client, url)
    second, count = queries(client, url)
    assert count == 0
    assert without_tokens(first.content) == without_tokens(second.content)


def test_a_new_review_shows_at_once_after_the_touch(client, pair):
    a, _ = pair
    assert "100%" in client.get("/tools/alpha/").content.decode()
    make_review(a, make_personas()[0], "skip", take="Now a skip.")
    tools_touch(a.pk)  # what the panel's review service does
    html = client.get("/tools/alpha/").content.decode()
    assert "75%" in html and "Now a skip." in html
    compare = client.get("/compare/alpha-vs-beta/").content.decode()
    assert "Now a skip." in compare


def test_touching_another_tool_keeps_the_tool_page_but_refreshes_site_lists(client, pair):
    other = make_tool("gamma")
    client.get("/tools/alpha/")
    tools_touch(other.pk)
    _, count = queries(client, "/tools/alpha/")
    assert count > 0  # the site stamp changed too: lists on the page may show other tools


def test_etag_and_last_modified_give_304(client, pair):
    response = client.get("/compare/alpha-vs-beta/")
    etag, modified = response["ETag"], response["Last-Modified"]
    assert etag and modified
    assert client.get("/compare/alpha-vs-beta/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get("/compare/alpha-vs-beta/", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    make_review(pair[0], make_personas()[3], "skip")
    tools_touch(pair[0].pk)
    changed = client.get("/compare/alpha-vs-beta/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_forms_get_each_readers_own_csrf_token(client, pair, monkeypatch):
    form = '<form method="post"><input name="csrfmiddlewaretoken" value="{{ csrf_token }}"></form>'
    monkeypatch.setattr("shipwith.web.views.render_page", _render_with_form(form))
    first = client.get("/tools/alpha/")
    body = first.content.decode()
    assert CSRF_MARKER not in body
    assert first["Cache-Control"] == "private, no-cache"
    token = client.cookies["csrftoken"].value
    assert token
    proxied = client.get("/tools/alpha/", headers={PROXY_HEADER: "substitute"})
    assert CSRF_MARKER in proxied.content.decode()
    assert proxied["Cache-Control"].startswith("public")
    assert proxied["X-Accel-Expires"]


def _render_with_form(form):
    """Render pages with one extra CSRF form, whatever the other apps' templates hold."""

    def render_page(request, template, context, status=200):
        response = caching.render_page(request, template, context, status)
        extra = (
            engines["django"].from_string(form).render({"csrf_token": caching.CSRF_MARKER}, request)
        )
        response.content = response.content.replace(b"</main>", extra.encode() + b"</main>")
        return response

    return render_page


def test_head_requests_are_cached_too(client, pair):
    client.get("/tools/alpha/")
    assert client.head("/tools/alpha/").status_code == 200


def test_memo_serves_a_hot_page_without_cache_reads_then_sees_the_touch(client, pair, settings):
    settings.SHIPWITH_FRESHNESS_MEMO_SECONDS = 0.3
    a, _ = pair
    assert "100%" in client.get("/tools/alpha/").content.decode()
    make_review(a, make_personas()[0], "skip", take="Now a skip.")
    tools_touch(a.pk)
    assert "100%" in client.get("/tools/alpha/").content.decode()  # within the memo's 0.3 s
    time.sleep(0.35)
    assert "75%" in client.get("/tools/alpha/").content.decode()
