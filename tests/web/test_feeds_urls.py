"""Feeds and sitemaps link to SHIPWITH_BASE_URL, whatever Host header a client sends."""

import re

import pytest
from django.test import Client

from tests.factories import make_panel, make_tool

pytestmark = pytest.mark.django_db

BASE = "https://shipwith.example"
URLS = [
    "/feeds/comparisons.atom",
    "/feeds/verdicts.atom",
    "/sitemap.xml",
    "/sitemap-tools.xml",
    "/sitemap-comparisons.xml",
    "/sitemap-pages.xml",
]


@pytest.fixture
def site(settings):
    settings.SHIPWITH_BASE_URL = BASE
    # A permissive host list, as behind a proxy that forwards any Host: the header must still
    # never reach a link.
    settings.ALLOWED_HOSTS = ["*"]
    a, b = make_tool("alpha"), make_tool("beta")
    make_panel(a, "ssss")
    make_panel(b, "skkk")
    from shipwith.comparisons.services import comparisons_publish

    comparisons_publish()


def links(body: bytes) -> list[str]:
    text = body.decode()
    return re.findall(r'href="([^"]+)"', text) + re.findall(r"<loc>([^<]+)</loc>", text)


@pytest.mark.parametrize("url", URLS)
def test_links_come_from_the_base_url_not_the_host_header(site, url):
    # The first request fills the cache (keyed by path) with whatever it produced.
    poisoned = Client(HTTP_HOST="evil.example").get(url)
    assert poisoned.status_code == 200
    found = links(poisoned.content)
    assert found, poisoned.content[:300]
    assert all(link.startswith(BASE + "/") for link in found), found
    assert b"evil.example" not in poisoned.content
    honest = Client(HTTP_HOST="shipwith.example", secure=True).get(url)
    assert honest.content == poisoned.content


def test_feed_entries_link_to_the_pages(site):
    body = Client().get("/feeds/verdicts.atom").content.decode()
    assert f'href="{BASE}/tools/alpha/#take-builder"' in body
    body = Client().get("/feeds/comparisons.atom").content.decode()
    assert f'href="{BASE}/compare/alpha-vs-beta/"' in body
    assert f'href="{BASE}/feeds/comparisons.atom"' in body  # rel="self"
