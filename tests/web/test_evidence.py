"""Each take's evidence on the page: key risk, claim, quotes with their source, competitors."""

import re

import html5lib
import pytest

from shipwith.catalog.models import Source
from shipwith.comparisons.services import comparisons_publish
from tests.factories import add_source, make_panel, make_personas, make_review, make_tool

pytestmark = pytest.mark.django_db

NS = {"h": "http://www.w3.org/1999/xhtml"}


def page(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    return html5lib.parse(response.content.decode(), namespaceHTMLElements=False)


def take(doc, persona_key: str):
    (found,) = doc.findall(f".//article[@id='take-{persona_key}']")
    return found


def text(element) -> str:
    """The element's text as a reader sees it: parts spaced, no space before punctuation."""
    return re.sub(r"\s+([,.:;])", r"\1", " ".join(" ".join(element.itertext()).split()))


@pytest.fixture
def tool():
    tool = make_tool("quillstack", name="Quillstack")
    docs = add_source(tool, "https://example.com/docs")
    Source.objects.create(tool=tool, url="https://example.com/launch", title="Launch post")
    skeptic = make_personas()[1]
    make_panel(tool, "ssss")
    make_review(
        tool,
        skeptic,
        "skip",
        key_risk="Indexing cost grows with the monorepo.",
        claim_to_pressure="Retrieval beats every open-source alternative.",
        competitors=["Sourcegraph Cody", "continue", "Nonexistent Tool"],
        evidence_quotes=["serves models over HTTP", "answers in one second"],
        evidence_sources=[docs.pk, None],
        dropped_quotes=["a quote the sources never said", "another invented one"],
    )
    make_tool("sourcegraph-cody", name="Sourcegraph Cody")
    make_tool("continue-dev", name="Continue.dev", aliases="Continue\nContinue IDE")
    return tool


def test_a_take_shows_its_key_risk_and_claim_to_pressure(client, tool):
    skeptic = take(page(client, "/tools/quillstack/"), "skeptic")
    assert "Key risk Indexing cost grows with the monorepo." in text(skeptic)
    assert "Claim to pressure Retrieval beats every open-source alternative." in text(skeptic)


def test_verified_quotes_link_to_their_source_with_its_checked_date(client, tool):
    skeptic = take(page(client, "/tools/quillstack/"), "skeptic")
    first, second = skeptic.findall(".//ul[@class='evidence']/li")
    assert first.find("q").text == "serves models over HTTP"
    link = first.find(".//a")
    assert link.get("href") == "https://example.com/docs" and link.text == "Docs"
    assert "checked on 1 Nov 2026" in text(first)
    assert "the catalog entry" in text(second) and second.find(".//a") is None


def test_a_quote_whose_source_was_removed_says_so(client, tool):
    Source.objects.filter(url="https://example.com/docs").delete()
    first, second = take(page(client, "/tools/quillstack/"), "skeptic").findall(".//ul/li")
    assert "a source since removed" in text(first) and first.find(".//a") is None
    assert "the catalog entry" not in text(first)
    assert "the catalog entry" in text(second)


def test_a_source_never_fetched_says_not_checked_yet(client, tool):
    launch = Source.objects.get(url="https://example.com/launch")
    make_review(
        tool,
        make_personas()[0],
        "ship",
        evidence_quotes=["a quote from the launch post"],
        evidence_sources=[launch.pk],
    )
    (quote,) = take(page(client, "/tools/quillstack/"), "builder").findall(".//ul/li")
    assert "Launch post, not checked yet" in text(quote)


def test_dropped_quotes_are_counted(client, tool):
    skeptic = take(page(client, "/tools/quillstack/"), "skeptic")
    assert "2 quotes dropped as unverified" in text(skeptic)
    assert "never said" not in text(skeptic)  # the dropped text itself is not shown as evidence


def test_competitors_link_to_their_pages_by_name_or_alias(client, tool):
    skeptic = take(page(client, "/tools/quillstack/"), "skeptic")
    (line,) = skeptic.findall(".//p[@class='competitors']")
    links = {a.text: a.get("href") for a in line.findall("a")}
    assert links == {
        "Sourcegraph Cody": "/tools/sourcegraph-cody/",
        "continue": "/tools/continue-dev/",  # matched on an alias, any case
    }
    assert "Nonexistent Tool" in text(line)


def test_the_comparison_shows_claims_side_by_side_and_risks_in_the_split(client, tool):
    other = make_tool("rivalbase", name="Rivalbase")
    make_panel(other, "skss", claim_to_pressure="Rivalbase claims zero-config setup.")
    comparisons_publish()
    doc = page(client, "/compare/quillstack-vs-rivalbase/")
    (claims,) = doc.findall(".//section[@aria-labelledby='claims-heading']")
    left, right = claims.findall(".//div[@class='panel-box']")
    assert "Skeptic: Retrieval beats every open-source alternative." in text(left)
    assert text(right).count("Rivalbase claims zero-config setup.") == 4
    (split,) = doc.findall(".//section[@aria-labelledby='row-skeptic']")
    assert "Key risk Indexing cost grows with the monorepo." in text(split)


def test_hostile_evidence_is_escaped_and_never_linked(client, tool):
    hostile = "<script>alert(1)</script>"
    bad = Source.objects.create(tool=tool, url="javascript:alert(1)", title=hostile)
    make_review(
        tool,
        make_personas()[2],
        "skip",
        key_risk=hostile,
        claim_to_pressure=hostile,
        competitors=[hostile],
        evidence_quotes=[hostile],
        evidence_sources=[bad.pk],
    )
    body = client.get("/tools/quillstack/").content.decode()
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    futurist = take(html5lib.parse(body, namespaceHTMLElements=False), "futurist")
    assert text(futurist).count("<script>alert(1)</script>") == 5  # shown, as text
    (quote,) = futurist.findall(".//ul[@class='evidence']/li")
    assert quote.find(".//a") is None  # a javascript: source is named, never linked
