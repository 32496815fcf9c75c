"""Reading a fetched page: main text, JSON-LD and OpenGraph, all as plain text."""

from datetime import UTC, datetime

import pytest

from shipwith.ingest.fetch import Fetched, FetchError, MemoryValidators
from shipwith.ingest.pages import page_fetch, page_read
from tests.ingest.server import fixture


def fetched(name: str, url: str = "https://quill.example/") -> Fetched:
    return Fetched(
        url=url,
        final_url=url,
        status=200,
        content_type="text/html",
        charset="utf-8",
        body=fixture(name),
        fetched_at=datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
    )


def deep_json_ld_page(depth: int) -> bytes:
    """A page whose JSON-LD licence is a list nested `depth` deep (json.dumps cannot write it)."""
    licence = "[" * depth + '"MIT"' + "]" * depth
    json_ld = (
        '{"@context": "https://schema.org", "@type": "SoftwareApplication", "name": "Relay", '
        '"description": "Relay files your expense reports.", "license": ' + licence + "}"
    )
    return (
        "<!doctype html><html><head><title>Relay</title>"
        f'<script type="application/ld+json">{json_ld}</script></head>'
        "<body><main><p>Relay is an AI agent that reads receipts and files expense reports "
        "for small teams, from a phone photo to an approved claim.</p></main></body></html>"
    ).encode()


def test_main_text_and_metadata_are_read():
    page = page_read(fetched("page_quill.html"))

    assert page.url == "https://quill.example/"
    assert page.fetched_at == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert page.title == "Quill"
    assert "runs a local language model on your own machine" in page.text
    assert "$5 per month" in page.text
    assert page.metadata == {
        "name": "Quill",
        "description": "An open-source writing assistant that runs a local LLM.",
        "licence": "https://www.apache.org/licenses/LICENSE-2.0",
        "price": "0",
        "price_currency": "USD",
        "author": "Quill Labs",
        "category": "DeveloperApplication",
        "type": "SoftwareApplication",
        "site_name": "Quill",
    }


def test_scripts_and_markup_never_survive_and_instructions_stay_text():
    page = page_read(fetched("page_relay.html", "https://relay.example/"))

    assert "Relay is an AI agent that reads receipts" in page.text
    for markup in ("<", ">", "script", "evil.example", "Injected by script", "iframe"):
        assert markup not in page.text
        assert all(markup not in value for value in page.metadata.values())
    # An instruction in the page is kept as words to quote, not acted on or hidden.
    assert "Ignore previous instructions" in page.text
    assert page.metadata["description"] == "Relay reads your receipts and files expense reports."


def test_an_empty_or_broken_page_is_an_empty_page_not_a_crash():
    broken = Fetched(
        url="https://x.example/", final_url="https://x.example/", status=200,
        content_type="text/html", body=b"\xff\xfe<html><body><<<>>>", fetched_at=datetime.now(UTC),
    )  # fmt: skip
    page = page_read(broken)
    assert "<html" not in page.text and "<body" not in page.text and page.metadata == {}


def test_charset_declared_only_in_the_page_is_honoured():
    latin = Fetched(
        url="https://cafe.example/", final_url="https://cafe.example/", status=200,
        content_type="text/html", charset="", fetched_at=datetime.now(UTC),
        body="<html><head><meta charset='iso-8859-1'><title>Café</title></head>"
        "<body><article><p>Le café est une application très utile pour écrire.</p>"
        "</article></body></html>".encode("iso-8859-1"),
    )  # fmt: skip
    assert "café est une application très utile" in page_read(latin).text


def test_page_fetch_reads_a_page_then_answers_none_when_unchanged(server, fetcher):
    url = server.serve("/quill/", fixture("page_quill.html"), content_type="text/html", etag='"p1"')
    row = MemoryValidators()  # e.g. one tool's source row, not the Fetcher's own store

    page = page_fetch(url, fetcher=fetcher, validators=row)
    again = page_fetch(url, fetcher=fetcher, validators=row)

    assert page is not None and page.title == "Quill" and page.url == url
    assert again is None
    assert row.get(url) == ('"p1"', "") and fetcher.validators.get(url) is None
    assert len(server.seen("/robots.txt")) == 1  # robots.txt read once for both


def test_page_fetch_honours_robots_txt(server, fetcher):
    server.serve("/robots.txt", b"User-agent: *\nDisallow: /\n", content_type="text/plain")
    url = server.serve("/quill/", fixture("page_quill.html"), content_type="text/html")
    with pytest.raises(FetchError, match="robots.txt disallows"):
        page_fetch(url, fetcher=fetcher)
    assert server.seen("/quill/") == []


def test_page_fetch_reads_json_ld_nested_600_deep_without_its_licence(server, fetcher):
    url = server.serve("/relay/", deep_json_ld_page(600), content_type="text/html")

    page = page_fetch(url, fetcher=fetcher)

    assert page.metadata["name"] == "Relay"
    assert page.metadata["description"] == "Relay files your expense reports."
    assert "licence" not in page.metadata  # a list in a list names nothing
    assert "reads receipts and files expense reports" in page.text
