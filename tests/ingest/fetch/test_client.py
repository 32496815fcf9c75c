"""The Fetcher against a real loopback server: conditional GETs, status, redirects, retries."""

import time

import pytest

from shipwith.ingest.fetch import Fetcher, FetchError
from tests.ingest.server import FixtureServer, Reply

JSON = "application/json; charset=utf-8"


def test_conditional_get_answers_304_the_second_time(server, fetcher, validators):
    url = server.serve(
        "/models.json", b'{"data": []}', etag='"v1"', last_modified="Mon, 30 Nov 2026 10:00:00 GMT"
    )

    first = fetcher.get(url, expect="json")
    second = fetcher.get(url, expect="json")

    assert (first.status, first.body, first.not_modified) == (200, b'{"data": []}', False)
    assert validators.get(url) == ('"v1"', "Mon, 30 Nov 2026 10:00:00 GMT")
    assert second.not_modified and second.status == 304 and second.body == b""
    sent = server.seen("/models.json")[1].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Mon, 30 Nov 2026 10:00:00 GMT"


def test_last_modified_alone_makes_the_get_conditional(server, fetcher):
    url = server.serve("/feed.atom", b"<feed/>", last_modified="Mon, 30 Nov 2026 10:00:00 GMT")
    fetcher.get(url, expect="feed")
    assert fetcher.get(url, expect="feed").not_modified


def test_changed_resource_is_fetched_again(server, fetcher):
    url = server.serve("/m.json", b"[1]", etag='"v1"')
    fetcher.get(url, expect="json")
    server.serve("/m.json", b"[1, 2]", etag='"v2"')
    assert fetcher.get(url, expect="json").body == b"[1, 2]"


def test_user_agent_names_the_instance(server, fetcher, settings):
    url = server.serve("/m.json", b"[]")
    fetcher.get(url, expect="json")
    agent = server.seen("/m.json")[0].headers["User-Agent"]
    assert agent.startswith("shipwith/") and f"(+{settings.SHIPWITH_BASE_URL})" in agent


def test_http_error_names_url_and_status(server, fetcher):
    url = server.route("/gone", Reply(status=404, body=b"{}"))
    with pytest.raises(FetchError) as caught:
        fetcher.get(url, expect="json")
    assert str(caught.value) == f"{url}: HTTP 404"


def test_redirects_are_followed_and_the_final_url_kept(server, fetcher):
    server.route("/old", Reply(redirect="/new", status=301))
    server.serve("/new", b"[]")
    fetched = fetcher.get(server.url("/old"), expect="json")
    assert fetched.body == b"[]"
    assert fetched.url == server.url("/old") and fetched.final_url == server.url("/new")


def test_credentials_go_only_to_the_origin_they_were_given_for(server, fetcher):
    other = FixtureServer().start()  # the same host on another port: another origin
    try:
        server.route("/a", Reply(redirect="/b"))
        server.route("/b", Reply(redirect=other.url("/c")))
        other.route("/c", Reply(redirect=server.url("/d")))
        server.serve("/d", b"[]")
        secrets = {"Authorization": "Bearer s3cret", "Cookie": "session=s3cret"}
        fetcher.get(server.url("/a"), expect="json", headers=secrets)
    finally:
        other.stop()
    carried = [
        (seen.path, "s3cret" in str(seen.headers)) for seen in [*server.requests, *other.requests]
    ]
    assert carried == [("/a", True), ("/b", True), ("/d", False), ("/c", False)]


def test_redirect_loop_is_reported(server, fetcher):
    server.route("/a", Reply(redirect="/b"))
    server.route("/b", Reply(redirect="/a"))
    with pytest.raises(FetchError, match=r"redirect loop: .*/a → .*/b → .*/a"):
        fetcher.get(server.url("/a"), expect="json")
    assert len(server.requests) == 2


def test_redirect_chain_longer_than_the_limit_is_refused(server, validators):
    for hop in range(10):
        server.route(f"/r{hop}", Reply(redirect=f"/r{hop + 1}"))
    with Fetcher(validators=validators, allow_private=True, host_delay=0, max_redirects=3) as f:
        with pytest.raises(FetchError, match="more than 3 redirects"):
            f.get(server.url("/r0"), expect="json")
    assert len(server.requests) == 4


def test_429_with_retry_after_is_retried_after_the_wait(server, fetcher):
    url = server.route(
        "/limited",
        Reply(status=429, headers={"Retry-After": "1"}),
        Reply(body=b"[1]", content_type=JSON),
    )
    fetched = fetcher.get(url, expect="json")
    first, second = server.seen("/limited")
    assert fetched.body == b"[1]"
    assert second.at - first.at >= 0.95


def test_retry_after_longer_than_the_cap_is_an_error_not_a_sleep(server, fetcher):
    url = server.route("/limited", Reply(status=429, headers={"Retry-After": "3600"}))
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"HTTP 429 asks to retry after 3600 s, more than the 3 s"):
        fetcher.get(url, expect="json")
    assert time.monotonic() - started < 3  # no hour-long sleep
    assert len(server.seen("/limited")) == 1


def test_429_every_time_gives_up_after_the_retries(server, validators):
    url = server.route("/limited", Reply(status=429, headers={"Retry-After": "0"}))
    with Fetcher(validators=validators, allow_private=True, host_delay=0, retries=2) as f:
        with pytest.raises(FetchError, match="HTTP 429 after 3 tries"):
            f.get(url, expect="json")
    assert len(server.seen("/limited")) == 3
