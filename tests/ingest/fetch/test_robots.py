"""robots.txt for page fetches: its rules, its Crawl-delay, and only its first 500 KiB."""

import pytest

from shipwith.ingest.fetch import FetchError
from shipwith.ingest.fetch.robots import ROBOTS_MAX_BYTES
from tests.ingest.server import Reply


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
