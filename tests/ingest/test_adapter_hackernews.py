"""Show HN posts from Algolia's HN Search API; linked pages fetched (robots.txt honoured) and read."""

import pytest

from shipwith.ingest.adapters import adapter_for
from shipwith.ingest.adapters.base import SourceFormatError
from shipwith.ingest.fetch import Fetcher
from shipwith.ingest.fetch.guard import resolve
from shipwith.ingest.items import Item, ItemProblem
from tests.ingest.server import Reply, fixture, public_guard

PATH = "/api/v1/search_by_date?tags=show_hn&hitsPerPage=100"


@pytest.fixture
def fetcher(validators, server):
    """Posts link to http://quill.test:PORT/, a name that resolves to the loopback server."""
    with Fetcher(
        validators=validators,
        allow_private=True,
        host_delay=0,
        resolver=lambda host, port: [server.host] if host == "quill.test" else resolve(host, port),
    ) as running:
        yield running


@pytest.fixture
def hn(server):
    """The Algolia answer, with the posts' links pointing at pages on the loopback server."""
    body = fixture("hackernews_show_hn.json").replace(
        b"https://quill.example", f"http://quill.test:{server.port}".encode()
    )
    server.serve(PATH, body, etag='"hn-1"')
    server.serve("/", fixture("page_quill.html"), content_type="text/html; charset=utf-8")
    server.serve("/relay/", fixture("page_relay.html"), content_type="text/html; charset=utf-8")
    return server


def run(server, fetcher, **options):
    adapter = adapter_for("hackernews")(url=server.url(PATH), options=options, fetcher=fetcher)
    return list(adapter.items())


def test_ai_tools_with_enough_points_become_items_with_their_pages(hn, fetcher):
    results = run(hn, fetcher)
    items = {r.key: r for r in results if isinstance(r, Item)}

    # The sourdough timer (not AI) and the 2-point chatbot are left out.
    assert sorted(items) == ["46123360", "46123370", "46123401"]
    quill = items["46123401"]
    assert quill.name == "Quill"
    assert quill.url == "https://news.ycombinator.com/item?id=46123401"
    assert quill.facts.homepage == f"http://quill.test:{hn.port}/"
    assert quill.identifiers.domain == "quill.test"
    assert quill.facts.description == "An open-source writing assistant that runs a local LLM."
    assert quill.page is not None and "runs a local language model" in quill.page.text
    assert quill.page.metadata["author"] == "Quill Labs"
    assert quill.seen_at.isoformat() == "2026-11-30T14:02:11+00:00"

    relay = items["46123360"]
    assert relay.name == "Relay"
    assert "<" not in relay.page.text and "Ignore previous instructions" in relay.page.text

    vecto = items["46123370"]  # a text post: no link, the post's own text describes it
    assert vecto.name == "Vecto" and vecto.page is None and vecto.facts.homepage is None
    assert vecto.facts.description == "Vector search inside SQLite"


def test_a_hit_with_a_bad_date_is_a_problem_naming_it(hn, fetcher):
    problems = [r for r in run(hn, fetcher) if isinstance(r, ItemProblem)]
    assert problems == [ItemProblem(key="46123350", message="created_at 'yesterday' is not a date")]


def test_robots_txt_is_honoured_for_linked_pages(hn, fetcher):
    hn.serve("/robots.txt", b"User-agent: *\nDisallow: /relay/\n", content_type="text/plain")
    items = {r.key: r for r in run(hn, fetcher) if isinstance(r, Item)}
    assert items["46123360"].page is None  # the item still comes, without its page
    assert hn.seen("/relay/") == []


def test_min_points_option(hn, fetcher):
    items = [r.key for r in run(hn, fetcher, min_points="20") if isinstance(r, Item)]
    assert items == ["46123401"]


def test_second_run_answers_304_and_fetches_no_page(hn, fetcher):
    run(hn, fetcher)
    pages_before = len(hn.seen("/"))
    assert run(hn, fetcher) == []
    assert len(hn.seen("/")) == pages_before


def test_hacker_news_may_never_autopublish():
    assert adapter_for("hackernews").autopublish_allowed is False


def test_an_answer_without_hits_is_not_algolia(server, fetcher):
    server.route(PATH, Reply(body=b'{"message": "Invalid tags"}', status=200))
    with pytest.raises(SourceFormatError, match='expected a "hits" list'):
        run(server, fetcher)


def test_a_post_linking_to_a_private_address_is_kept_without_fetching_it(server, validators):
    # Production rules (private addresses refused); only the fixture server counts as public.
    body = fixture("hackernews_show_hn.json").replace(
        b"https://quill.example/", b"http://169.254.169.254/latest/meta-data/"
    )
    server.serve(PATH, body)
    fetcher = Fetcher(
        validators=validators, allow_private=False, host_delay=0, guard=public_guard(server)
    )
    with fetcher:
        items = {r.key: r for r in run(server, fetcher) if isinstance(r, Item)}
    quill = items["46123401"]
    assert quill.name == "Quill" and quill.page is None
    assert quill.facts.homepage is None and quill.identifiers.domain is None
