"""RSS and Atom feeds: release feeds read as releases of one project, other feeds as posts."""

from datetime import UTC, date, datetime

import pytest

from shipwith.ingest.adapters import adapter_for
from shipwith.ingest.adapters.base import SourceFormatError
from shipwith.ingest.items import Item, ItemProblem
from tests.ingest.server import fixture


def run(server, fetcher, path, name, **options):
    url = server.serve(
        path, fixture(name), etag='W/"feed-1"', last_modified="Fri, 27 Nov 2026 18:21:05 GMT"
    )
    return list(adapter_for("feed")(url=url, options=options, fetcher=fetcher).items())


def test_github_release_is_an_update_of_the_project_not_a_tool_named_v0_14_0(server, fetcher):
    items = run(server, fetcher, "/vllm-project/vllm/releases.atom", "github_releases.atom")

    assert [(item.name, item.release) for item in items] == [
        ("vllm", "v0.14.0"),
        ("vllm", "v0.13.2"),
    ]
    latest = items[0]
    assert latest.identifiers.github == "vllm-project/vllm"
    assert latest.key == "tag:github.com,2008:Repository/599547518/v0.14.0"
    assert latest.url == "https://github.com/vllm-project/vllm/releases/tag/v0.14.0"
    assert latest.seen_at == datetime(2026, 11, 27, 18, 21, 5, tzinfo=UTC)
    # The newest entry carries the latest release, read from the releases page.
    assert (latest.facts.latest_release, latest.facts.latest_release_date) == (
        "v0.14.0",
        date(2026, 11, 27),
    )
    assert {item.facts_url for item in items} == {"https://github.com/vllm-project/vllm/releases"}
    assert items[1].facts.latest_release is None


def test_pypi_release_feed_names_the_project(server, fetcher):
    items = run(server, fetcher, "/rss/project/llama-index/releases.xml", "pypi_releases.xml")

    assert [(item.name, item.release) for item in items] == [
        ("llama-index", "0.14.9"),
        ("llama-index", "0.14.8"),
    ]
    assert items[0].url == "https://pypi.org/project/llama-index/0.14.9/"
    assert items[0].seen_at == datetime(2026, 11, 27, 21, 14, 3, tzinfo=UTC)
    assert items[0].facts.latest_release == "0.14.9"
    assert items[0].facts_url == "https://pypi.org/project/llama-index/"


def test_project_option_reads_any_changelog_as_releases(server, fetcher):
    items = run(server, fetcher, "/blog.xml", "vendor_blog.xml", project="Quill")
    releases = [(r.name, r.release) for r in items if isinstance(r, Item)]
    assert releases == [
        ("Quill", "Introducing Quill 2"),
        ("Quill", "How we evaluate long-context recall"),
    ]


def test_blog_posts_are_items_with_plain_text_summaries(server, fetcher):
    results = run(server, fetcher, "/blog.xml", "vendor_blog.xml")
    items = [r for r in results if isinstance(r, Item)]
    problems = [r for r in results if isinstance(r, ItemProblem)]

    assert [item.name for item in items] == [
        "Introducing Quill 2",
        "How we evaluate long-context recall",
    ]
    first = items[0]
    assert first.release is None and first.key == "acme-blog-1042"
    assert first.facts.description == "Quill 2 writes long documents with a 1M-token context."
    assert first.identifiers.domain is None  # every post shares the blog's domain
    assert problems == [ItemProblem(key="acme-blog-1040", message="entry has no title")]


def test_second_run_answers_304_and_yields_nothing(server, fetcher):
    run(server, fetcher, "/releases.atom", "github_releases.atom")
    url = server.url("/releases.atom")
    assert list(adapter_for("feed")(url=url, options={}, fetcher=fetcher).items()) == []
    sent = server.seen("/releases.atom")[-1].headers
    assert sent["If-None-Match"] == 'W/"feed-1"'
    assert sent["If-Modified-Since"] == "Fri, 27 Nov 2026 18:21:05 GMT"


def test_malformed_xml_fails_the_source_with_a_clear_error(server, fetcher):
    with pytest.raises(
        SourceFormatError,
        match=r"/broken\.atom: malformed feed at line 16, column \d+: unclosed token",
    ):
        run(server, fetcher, "/broken.atom", "malformed.atom")


def test_a_page_that_is_not_a_feed_is_refused(server, fetcher):
    url = server.serve("/blog", b"<html><body>hi</body></html>", content_type="text/html")
    with pytest.raises(Exception, match="content type 'text/html' is not feed"):
        list(adapter_for("feed")(url=url, options={}, fetcher=fetcher).items())


def test_release_named_differently_from_its_tag_reports_the_tag(server, fetcher):
    body = fixture("github_releases.atom").replace(
        b"<title>v0.14.0</title>", b"<title>vLLM 0.14 \xe2\x80\x93 faster prefix caching</title>"
    )
    server.serve("/releases.atom", body)
    items = list(
        adapter_for("feed")(url=server.url("/releases.atom"), options={}, fetcher=fetcher).items()
    )
    assert [(item.name, item.release) for item in items][0] == ("vllm", "v0.14.0")


PRERELEASE_ENTRY = b"""  <entry>
    <id>tag:github.com,2008:Repository/599547518/v0.15.0rc1</id>
    <updated>2026-12-03T08:00:00Z</updated>
    <link rel="alternate" type="text/html" href="https://github.com/vllm-project/vllm/releases/tag/v0.15.0rc1"/>
    <title>v0.15.0rc1</title>
    <content type="html">&lt;p&gt;Release candidate.&lt;/p&gt;</content>
    <author>
      <name>release-bot</name>
    </author>
  </entry>
"""


def test_a_newer_pre_release_is_not_the_latest_release(server, fetcher):
    # GitHub's Atom lists a release candidate like any release (no `prerelease` flag in it).
    body = fixture("github_releases.atom").replace(b"  <entry>", PRERELEASE_ENTRY + b"  <entry>", 1)
    server.serve("/releases.atom", body)
    items = list(
        adapter_for("feed")(url=server.url("/releases.atom"), options={}, fetcher=fetcher).items()
    )
    assert [item.release for item in items] == ["v0.15.0rc1", "v0.14.0", "v0.13.2"]
    # The tool page's "latest release" stays the newest stable one, as GitHub's "Latest" does.
    facts = [(item.facts.latest_release, item.facts.latest_release_date) for item in items]
    assert facts == [(None, None), ("v0.14.0", date(2026, 11, 27)), (None, None)]


def test_a_feed_of_pre_releases_only_gives_its_newest(server, fetcher):
    body = fixture("github_releases.atom").replace(b"v0.14.0", b"v0.14.0-beta.2")
    body = body.replace(b"v0.13.2", b"v0.14.0-beta.1")
    server.serve("/releases.atom", body)
    items = list(
        adapter_for("feed")(url=server.url("/releases.atom"), options={}, fetcher=fetcher).items()
    )
    assert [item.facts.latest_release for item in items] == ["v0.14.0-beta.2", None]


def test_a_release_feed_is_known_by_its_own_url_when_it_has_no_link():
    project_url = adapter_for("feed")._project_url
    assert project_url("https://github.com/vllm-project/vllm/releases.atom") == (
        "https://github.com/vllm-project/vllm/releases"
    )
    assert project_url("https://pypi.org/rss/project/llama-index/releases.xml") == (
        "https://pypi.org/project/llama-index/"
    )
    assert project_url("https://acme.example/blog/feed.xml") == ""


def test_a_feed_source_without_a_url_is_refused_when_set_up(fetcher):
    with pytest.raises(SourceFormatError, match="feed sources need the URL of an RSS or Atom feed"):
        adapter_for("feed")(url="", options={}, fetcher=fetcher)


def test_a_body_that_names_a_local_file_is_read_as_text_not_opened(server, fetcher, tmp_path):
    # feedparser opens a string it can take for a path: the body must never be one.
    on_disk = tmp_path / "feed.xml"
    on_disk.write_bytes(fixture("vendor_blog.xml"))
    url = server.serve("/feed.xml", str(on_disk).encode())
    with pytest.raises(SourceFormatError, match=r"/feed\.xml: malformed feed at line"):
        list(adapter_for("feed")(url=url, options={}, fetcher=fetcher).items())
