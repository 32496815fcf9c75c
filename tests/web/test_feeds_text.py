"""No feed entry and no page ever carries a live tag, whatever text a take or tool holds."""

import html
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings

from shipwith.catalog.models import Tool
from shipwith.core.freshness import tools_touch
from shipwith.panel.models import Review
from tests.core.test_text import Tags, entity_encode, hostile
from tests.factories import make_panel, make_tool
from tests.web.conftest import forget_pages

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
PAGES = ["/tools/alpha/", "/compare/alpha-vs-beta/"]


@pytest.fixture
def reviewed():
    tool = make_tool("alpha", tagline="Serving")
    other = make_tool("beta", tagline="Serving too")
    make_panel(tool, "ssss")
    make_panel(other, "skkk")
    from shipwith.comparisons.services import comparisons_publish

    comparisons_publish()
    # The pages' elements while every take and tagline is harmless words.
    tool.elements = {url: elements(Client().get(url).content) for url in PAGES}
    return tool


def summaries(body: bytes) -> list[tuple[str, str]]:
    """(type, text) of every entry's summary, as a feed reader reads them."""
    root = ET.fromstring(body)
    return [
        (summary.get("type", "text"), summary.text or "") for summary in root.iter(f"{ATOM}summary")
    ]


def live_tags(kind: str, text: str) -> list[str]:
    # An html summary is parsed as HTML by the reader; a text one never is.
    return Tags(text).found if kind == "html" else []


def elements(body: bytes) -> list[str]:
    return sorted(Tags(body.decode()).found)


hostile_settings = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@hostile_settings
@given(value=hostile)
@example(value=entity_encode("<img src=x onerror=alert(1)>", 6))
def test_verdict_feed_summaries_and_tool_pages_carry_no_live_tag(reviewed, value):
    client = Client()
    value = value.replace("\x00", "")  # the one character PostgreSQL cannot store
    # Stored as is, as an editor could in the admin: the feed and the page must cope.
    Review.objects.filter(tool=reviewed, is_current=True).update(take=value)
    Tool.objects.filter(pk=reviewed.pk).update(tagline="x" + value[:190])
    tools_touch(reviewed.pk)
    forget_pages()

    feed = client.get("/feeds/verdicts.atom")
    assert feed.status_code == 200
    found = summaries(feed.content)
    assert found
    for kind, text in found:
        assert live_tags(kind, text) == [], text
    comparisons = client.get("/feeds/comparisons.atom")
    for kind, text in summaries(comparisons.content):
        assert live_tags(kind, text) == [], text

    for url in PAGES:
        page = client.get(url)
        assert page.status_code == 200
        assert elements(page.content) == reviewed.elements[url], url


def test_a_take_is_read_back_from_the_feed_as_the_same_plain_text(reviewed):
    Review.objects.filter(tool=reviewed, is_current=True).update(
        take="Fast & cheap: 3 < 4 &lt;b&gt;bold&lt;/b&gt; <i>sure</i>"
    )
    feed = Client().get("/feeds/verdicts.atom")
    texts = {text for _, text in summaries(feed.content)}
    # The reader unescapes the html summary once and shows text: no markup, no entity.
    assert "Fast &amp; cheap: 3 &lt; 4 bold sure" in texts
    assert "Fast & cheap: 3 < 4 bold sure" in {html.unescape(text) for text in texts}
