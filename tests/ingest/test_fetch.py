"""The Fetcher against a real loopback server: conditional GETs, limits, redirects, retries."""

import gzip
import json
import threading
import time
import tracemalloc
import zlib

import pytest

from shipwith.ingest.fetch import Fetcher, FetchError
from shipwith.ingest.fetch.guard import LOOKUPS_MOST
from shipwith.ingest.fetch.robots import ROBOTS_MAX_BYTES
from tests.ingest.server import FixtureServer, Reply, fixture

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


def test_wrong_content_type_is_refused(server, fetcher):
    url = server.serve("/models", b"<html>login</html>", content_type="text/html")
    with pytest.raises(FetchError, match=r"content type 'text/html' is not json"):
        fetcher.get(url, expect="json")


def test_http_error_names_url_and_status(server, fetcher):
    url = server.route("/gone", Reply(status=404, body=b"{}"))
    with pytest.raises(FetchError) as caught:
        fetcher.get(url, expect="json")
    assert str(caught.value) == f"{url}: HTTP 404"


def test_huge_body_is_cut_off_while_streaming(server, fetcher, settings):
    # 40 MB without Content-Length: the cap is enforced by counting, never by reading it all.
    url = server.route(
        "/huge.json", Reply(content_type=JSON, stream_bytes=40 * 1024 * 1024, chunked=True)
    )
    cap = settings.SHIPWITH_INGEST_MAX_BYTES
    peak = peak_memory_of_a_refused_fetch(fetcher, url, cap)
    assert cap < 40 * 1024 * 1024
    assert peak < 1.25 * cap  # the body held up to the cap (16 MB), never the 40 MB


def peak_memory_of_a_refused_fetch(fetcher, url: str, cap: int) -> int:
    """The most memory Python held while the fetch of `url` was cut off at `cap`."""
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match=f"over {cap:,} bytes; cut off"):
            fetcher.get(url, expect="json")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_declared_huge_body_is_refused_before_reading(server, validators):
    url = server.route("/huge.json", Reply(content_type=JSON, stream_bytes=40 * 1024 * 1024))
    with Fetcher(validators=validators, allow_private=True, host_delay=0, max_bytes=1 << 20) as f:
        with pytest.raises(FetchError, match=r"body of 41,943,040 bytes is over 1,048,576"):
            f.get(url, expect="json")


def test_stalled_server_times_out(server, validators):
    url = server.route("/slow", Reply(body=b"[]", content_type=JSON, stall=5))
    with Fetcher(validators=validators, allow_private=True, host_delay=0, read_timeout=0.5) as f:
        started = time.monotonic()
        with pytest.raises(FetchError, match="timed out"):
            f.get(url, expect="json")
    assert time.monotonic() - started < 4  # the server would answer after 5 s


def test_body_that_trickles_past_the_total_limit_is_dropped(server, validators):
    url = server.route("/trickle", Reply(body=b"[]", content_type=JSON, stall_body=2))
    with Fetcher(validators=validators, allow_private=True, host_delay=0, read_timeout=0.5) as f:
        with pytest.raises(FetchError, match="timed out reading the body"):
            f.get(url, expect="json")


def test_a_trickle_that_never_stalls_still_ends_at_the_total_limit(server, validators):
    # A byte every read-timeout would keep a per-read limit happy for ever.
    url = server.route(
        "/drip", Reply(content_type=JSON, stream_bytes=1024 * 100, chunked=True, drip=0.2)
    )
    with Fetcher(
        validators=validators, allow_private=True, host_delay=0, read_timeout=1, total_timeout=1
    ) as f:
        started = time.monotonic()
        with pytest.raises(FetchError, match="took longer than 1 s"):
            f.get(url, expect="json")
    assert time.monotonic() - started < 4  # far less than the 20 s the drip would take


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


def test_requests_to_one_host_are_spaced(server, validators):
    url = server.serve("/m.json", b"[]")
    with Fetcher(validators=validators, allow_private=True, host_delay=0.4) as f:
        f.get(url, expect="json", conditional=False)
        f.get(url, expect="json", conditional=False)
    first, second = server.seen("/m.json")
    assert second.at - first.at >= 0.38


def test_two_fetchers_sharing_the_cache_pace_one_host_between_them(server, validators):
    # Two runs (say, two worker processes sharing Redis) fetch from the same host at once.
    url = server.serve("/m.json", b"[]")
    with (
        Fetcher(validators=validators, allow_private=True, host_delay=1) as one,
        Fetcher(validators=validators, allow_private=True, host_delay=1) as two,
    ):
        one.get(url, expect="json", conditional=False)
        two.get(url, expect="json", conditional=False)
    first, second = server.seen("/m.json")
    assert second.at - first.at >= 0.9


def test_robots_txt_disallow_is_honoured_for_page_fetches(server, fetcher):
    server.serve("/robots.txt", b"User-agent: shipwith\nDisallow: /private/\n")
    server.serve("/private/page.html", b"<p>secret</p>")
    server.serve("/public/page.html", b"<p>hello</p>")

    with pytest.raises(FetchError, match="robots.txt disallows shipwith"):
        fetcher.get(server.url("/private/page.html"), expect="html", robots=True)
    assert fetcher.get(server.url("/public/page.html"), expect="html", robots=True).body
    assert server.seen("/private/page.html") == []
    assert len(server.seen("/robots.txt")) == 1  # cached per host


def test_robots_crawl_delay_spaces_requests_to_that_host(server, fetcher):
    server.serve("/robots.txt", b"User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    server.serve("/a.html", b"<p>a</p>")
    server.serve("/b.html", b"<p>b</p>")
    fetcher.get(server.url("/a.html"), expect="html", robots=True)
    fetcher.get(server.url("/b.html"), expect="html", robots=True)
    assert server.seen("/b.html")[0].at - server.seen("/a.html")[0].at >= 0.95


def test_robots_txt_of_a_redirect_target_is_honoured_too(server, fetcher):
    server.serve("/robots.txt", b"User-agent: *\nDisallow: /members/\n", content_type="text/plain")
    server.route("/launch", Reply(redirect="/members/launch"))
    server.serve("/members/launch", b"<p>members only</p>")
    with pytest.raises(FetchError, match=r"redirected to .*/members/launch, which robots.txt"):
        fetcher.get(server.url("/launch"), expect="html", robots=True)
    assert server.seen("/members/launch") == []


def test_missing_robots_txt_allows_everything(server, fetcher):
    server.serve("/page.html", b"<p>hello</p>")
    assert fetcher.get(server.url("/page.html"), expect="html", robots=True).body


def test_failing_robots_txt_allows_nothing(server, fetcher):
    server.route("/robots.txt", Reply(status=500, body=b"oops"))
    server.serve("/page.html", b"<p>hello</p>")
    with pytest.raises(FetchError, match="robots.txt disallows"):
        fetcher.get(server.url("/page.html"), expect="html", robots=True)


def comment_lines(size: int) -> bytes:
    """`size` bytes of robots.txt comments, in lines of 80 bytes (the last one shorter)."""
    full, rest = divmod(size, 80)
    return (b"#" * 79 + b"\n") * full + (b"#" * (rest - 1) + b"\n" if rest else b"")


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_robots_txt_over_500_kib_is_read_up_to_500_kib(server, fetcher, chunked):
    # RFC 9309 2.5: a crawler parses at least the first 500 KiB; what comes after may be ignored.
    head = b"User-agent: shipwith\nDisallow: /private/\n"
    straddling = b"Allow: /private/blog-drafts/\n"  # the limit falls inside this line
    before_cut = b"Allow: /private/b"
    body = head + comment_lines(ROBOTS_MAX_BYTES - len(head) - len(before_cut) - 80)
    body += comment_lines(80) + straddling + b"Disallow: /late/\n" + comment_lines(100_000)
    assert body[:ROBOTS_MAX_BYTES].endswith(before_cut) and len(body) > ROBOTS_MAX_BYTES
    server.serve("/robots.txt", body, content_type="text/plain", chunked=chunked)
    for path in ("/public/page.html", "/late/page.html", "/private/blog.html"):
        server.serve(path, b"<p>hello</p>")

    def allowed(path: str) -> bool:
        try:
            return bool(fetcher.get(server.url(path), expect="html", robots=True).body)
        except FetchError as exc:
            assert "robots.txt disallows shipwith" in str(exc)
            return False

    assert allowed("/public/page.html")
    assert not allowed("/private/page.html")  # a rule in the first 500 KiB
    assert allowed("/late/page.html")  # a rule past them: ignored
    # Half a rule is no rule: "Allow: /private/b" would open /private/blog.html.
    assert not allowed("/private/blog.html")
    assert len(server.seen("/robots.txt")) == 1


def test_fixture_body_is_served_byte_for_byte(server, fetcher):
    body = fixture("openrouter_models.json")
    url = server.serve("/api/v1/models", body)
    assert fetcher.get(url, expect="json").body == body


def test_compressed_body_is_inflated(server, fetcher):
    body = json.dumps({"data": ["model"] * 1000}).encode()
    url = server.serve("/m.json", gzip.compress(body), headers={"Content-Encoding": "gzip"})
    assert fetcher.get(url, expect="json").body == body
    assert server.seen("/m.json")[0].headers["Accept-Encoding"] == "gzip, deflate"


def test_a_gzip_bomb_is_cut_off_at_the_cap_without_inflating_it_whole(server, fetcher, settings):
    # 40 MB of zeros compress to about 40 KB: the size on the wire says nothing.
    bomb = gzip.compress(b"\0" * (40 * 1024 * 1024))
    url = server.serve("/m.json", bomb, headers={"Content-Encoding": "gzip"})
    cap = settings.SHIPWITH_INGEST_MAX_BYTES
    peak = peak_memory_of_a_refused_fetch(fetcher, url, cap)
    assert len(bomb) < 100 * 1024 and peak < 1.25 * cap


def empty_blocks(body: bytes, count: int) -> bytes:
    """A zlib stream of `body` padded with `count` empty stored blocks: 5 bytes each on the
    wire, nothing once inflated."""
    deflate = zlib.compressobj()
    stream = deflate.compress(body) + deflate.flush(zlib.Z_SYNC_FLUSH)
    return stream + b"\x00\x00\x00\xff\xff" * count + deflate.flush()


BOMB = gzip.compress(b"\0" * (40 << 20))  # 40 KB that inflate to 40 MB


@pytest.mark.parametrize(
    ("encoding", "body", "padding"),
    [
        ("gzip", gzip.compress(b"[]"), 8 << 20),  # a tiny member, then 8 MB of "x"
        ("deflate", zlib.compress(b"[]"), 8 << 20),
        ("gzip", gzip.compress(b"[]") + BOMB * 32, 0),  # then 32 members of 40 MB each
        ("deflate", empty_blocks(b"[]", 2 << 20), 0),  # 10 MB inflating to nothing
    ],
    ids=["gzip-padding", "deflate-padding", "gzip-bombs-after", "deflate-empty-blocks"],
)
def test_a_compressed_body_is_capped_as_a_whole(server, validators, encoding, body, padding):
    # Whatever the compressed stream inflates to, the bytes after its end and the bytes
    # received count against the cap too: none of them streams in for free.
    cap = 1 << 20
    url = server.route(
        "/m.json",
        Reply(
            body=body,
            stream_bytes=padding,
            chunked=True,  # no Content-Length to refuse it by
            content_type=JSON,
            headers={"Content-Encoding": encoding},
        ),
    )
    with Fetcher(validators=validators, allow_private=True, host_delay=0, max_bytes=cap) as f:
        started = time.monotonic()
        peak = peak_memory_of_a_refused_fetch(f, url, cap)
        elapsed = time.monotonic() - started
    assert elapsed < 3 and peak < 1.25 * cap


def test_an_encoding_we_did_not_ask_for_is_refused(server, fetcher):
    url = server.serve("/m.json", b"\x1f\x8b", headers={"Content-Encoding": "br"})
    with pytest.raises(FetchError, match="unsupported content encoding 'br'"):
        fetcher.get(url, expect="json")


def lookup_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ingest resolve")]


def test_hung_dns_lookups_do_not_pile_up(server, validators):
    """A DNS server that never answers: each fetch fails within the connect timeout, a name
    is looked up once however often it is fetched, and past LOOKUPS_MOST hung lookups a
    fetch fails at once, naming them; once DNS answers again, fetching works."""
    answered, calls = threading.Event(), []

    def resolver(host, port):
        calls.append(host)
        if host.endswith(".hung.test"):
            answered.wait(30)
        return [server.host]

    url = server.serve("/m.json", b"[1]")
    path = url.split(str(server.port), 1)[1]
    with Fetcher(
        validators=validators,
        allow_private=True,
        host_delay=0,
        connect_timeout=0.2,
        resolver=resolver,
    ) as fetcher:
        try:
            for _ in range(3):
                with pytest.raises(
                    FetchError, match=r"resolving a\.hung\.test timed out after 0\.2 s"
                ):
                    fetcher.get(f"http://a.hung.test:{server.port}{path}", expect="json")
            assert calls == ["a.hung.test"]
            for n in range(1, LOOKUPS_MOST):
                with pytest.raises(FetchError, match="timed out"):
                    fetcher.get(f"http://h{n}.hung.test:{server.port}{path}", expect="json")
            started = time.monotonic()
            with pytest.raises(
                FetchError,
                match=r"not resolving z\.hung\.test: 8 DNS lookups are still unanswered \(a\.hung\.test, h1\.hung\.test",
            ):
                fetcher.get(f"http://z.hung.test:{server.port}{path}", expect="json")
            assert time.monotonic() - started < 0.1
            assert len(lookup_threads()) == LOOKUPS_MOST
        finally:
            answered.set()
        deadline = time.monotonic() + 5
        while lookup_threads() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fetcher.get(f"http://z.hung.test:{server.port}{path}", expect="json").body == b"[1]"
