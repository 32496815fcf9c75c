"""Cached pages: served without queries, re-rendered on a touch of what they show, 304s."""

import re
import time

import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext

from shipwith.comparisons.services import comparisons_publish
from shipwith.core.freshness import site_touch, tools_touch
from shipwith.votes.services import vote_cast, voter_create
from shipwith.web import caching
from shipwith.web.caching import CSRF_MARKER, PROXY_HEADER
from tests.factories import (
    make_category,
    make_panel,
    make_personas,
    make_review,
    make_tool,
    stamp_reads,
)
from tests.web.conftest import forget_pages

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
    """The page and the queries it cost beyond reading its freshness stamps (0: from cache)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(captured) - stamp_reads(captured)


@pytest.mark.parametrize("url", ["/", "/tools/alpha/", "/compare/alpha-vs-beta/"])
def test_second_request_is_served_from_cache_without_queries(client, pair, url):
    first, _ = queries(client, url)
    with CaptureQueriesContext(connection) as captured:
        second = client.get(url)
    # One read of the page's stamps (none while the memo holds them), nothing else.
    assert len(captured) == 1 and stamp_reads(captured) == 1
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


@pytest.fixture
def two_categories(pair, settings):
    """alpha and beta in one category, gamma and delta in another; every page warm."""
    settings.SHIPWITH_VOTES_MIN = 1
    other = make_category("vector-databases", "Vector databases")
    gamma, delta = make_tool("gamma", category=other), make_tool("delta", category=other)
    make_panel(gamma, "kkkk")
    make_panel(delta, "kkks")
    comparisons_publish()
    return pair[0], gamma


A_PAGES = ["/tools/alpha/", "/compare/alpha-vs-beta/", "/categories/inference-servers/"]
B_PAGES = ["/tools/gamma/", "/compare/delta-vs-gamma/", "/categories/vector-databases/"]


def warm(client, *urls):
    for url in urls:
        queries(client, url)
        assert queries(client, url)[1] == 0, url


def test_a_vote_re_renders_the_tools_pages_and_the_lists_showing_it_not_other_pages(
    client, two_categories, django_capture_on_commit_callbacks
):
    alpha, _ = two_categories
    warm(client, *A_PAGES, *B_PAGES, "/")
    before = {url: without_tokens(client.get(url).content) for url in A_PAGES}
    with django_capture_on_commit_callbacks(execute=True):
        vote_cast(voter_id=voter_create().pk, tool_id=alpha.pk, value="skip")
    for url in [*A_PAGES, "/"]:  # the home page lists alpha among the most shipped
        response, count = queries(client, url)
        assert count > 0, f"{url} was not re-rendered"
    for url in A_PAGES:
        assert without_tokens(client.get(url).content) != before[url], url
    for url in B_PAGES:
        assert queries(client, url)[1] == 0, f"{url} was re-rendered for a vote on alpha"


def test_a_review_re_renders_the_tools_pages_and_the_lists_not_other_tools_pages(
    client, two_categories
):
    alpha, _ = two_categories
    warm(client, *A_PAGES, *B_PAGES, "/", "/feeds/verdicts.atom")
    make_review(alpha, make_personas()[1], "skip", take="Skeptic changed its mind.")
    tools_touch(alpha.pk)  # what the panel's review service does
    for url in [*A_PAGES, "/", "/feeds/verdicts.atom"]:
        assert queries(client, url)[1] > 0, f"{url} was not re-rendered"
    assert "Skeptic changed its mind." in client.get("/tools/alpha/").content.decode()
    for url in ["/tools/gamma/", "/compare/delta-vs-gamma/"]:
        assert queries(client, url)[1] == 0, f"{url} was re-rendered for a review of alpha"


def test_a_list_depends_on_a_tool_it_newly_shows(
    client, two_categories, django_capture_on_commit_callbacks
):
    warm(client, "/categories/vector-databases/")
    newcomer = make_tool("epsilon", category=make_category("vector-databases"))
    tools_touch(newcomer.pk)  # what a catalog import does
    assert "Epsilon" in client.get("/categories/vector-databases/").content.decode()
    assert queries(client, "/categories/vector-databases/")[1] == 0
    with django_capture_on_commit_callbacks(execute=True):
        vote_cast(voter_id=voter_create().pk, tool_id=newcomer.pk, value="ship")
    assert queries(client, "/categories/vector-databases/")[1] > 0


def test_a_cold_list_renders_once_when_its_tools_were_touched_long_ago(
    client, two_categories, monkeypatch
):
    calls = []
    render = caching.render

    def counting_render(*args, **kwargs):
        calls.append(args[1])
        return render(*args, **kwargs)

    monkeypatch.setattr(caching, "render", counting_render)
    later = time.time_ns() + 2 * caching.CLOCK_SKEW_NS  # every touch so far is long past
    monkeypatch.setattr(caching.time, "time_ns", lambda: later)
    client.get("/categories/vector-databases/")
    assert calls == ["web/category.html"]
    assert queries(client, "/categories/vector-databases/")[1] == 0


def test_a_tool_touched_while_a_list_renders_makes_it_render_again(client, two_categories):
    import django.http

    request = django.http.HttpRequest()
    shown = make_tool("zeta")
    caching.page_depends(request, lists=True)
    before = (request._page_ids, request._page_token)
    started = time.time_ns()
    tools_touch(shown.pk)  # lands after the page began reading its data
    request._page_shown = frozenset({shown.pk})
    assert not caching._depend_on_shown(request, before, started)
    # The same tool, last touched long before a later rendering began: no second rendering.
    caching.page_depends(request, lists=True)
    before = (request._page_ids, request._page_token)
    assert caching._depend_on_shown(request, before, time.time_ns() + 2 * caching.CLOCK_SKEW_NS)
    assert shown.pk in request._page_ids


def test_a_site_touch_re_renders_every_page(client, two_categories):
    warm(client, *A_PAGES, *B_PAGES, "/")
    site_touch()
    for url in [*A_PAGES, *B_PAGES, "/"]:
        assert queries(client, url)[1] > 0, url


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
    first = client.get("/tools/alpha/")
    with CaptureQueriesContext(connection) as captured:
        head = client.head("/tools/alpha/")
    # Served from the page the GET stored: its validators, no body, no render (a stamp read).
    assert head.status_code == 200 and head.content == b""
    assert head["ETag"] == first["ETag"]
    assert len(captured) - stamp_reads(captured) == 0


def test_memo_serves_a_hot_page_without_cache_reads_then_sees_the_touch(client, pair, settings):
    settings.SHIPWITH_FRESHNESS_MEMO_SECONDS = 0.3
    a, _ = pair
    assert "100%" in client.get("/tools/alpha/").content.decode()
    make_review(a, make_personas()[0], "skip", take="Now a skip.")
    tools_touch(a.pk)
    assert "100%" in client.get("/tools/alpha/").content.decode()  # within the memo's 0.3 s
    time.sleep(0.35)
    assert "75%" in client.get("/tools/alpha/").content.decode()


def test_a_page_from_before_a_change_never_looks_fresh_again(client, pair):
    """The stamps are rows, not cache entries: emptying the cache brings no stale page back."""
    a, _ = pair
    client.get("/tools/alpha/")
    key, old = next((key, entry) for key, entry in caching._local.items() if b"100%" in entry.body)
    make_review(a, make_personas()[0], "skip", take="Now a skip.")
    tools_touch(a.pk)
    assert "Now a skip." in client.get("/tools/alpha/").content.decode()
    # The cache is emptied (evicted, restarted) while another process still holds the old copy.
    forget_pages()
    caching._local[key] = old
    html = client.get("/tools/alpha/").content.decode()
    assert "Now a skip." in html and "75%" in html
