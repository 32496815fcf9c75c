"""sitemap.xml: tools, categories, published comparisons and the fixed pages.

Every location is absolute from SHIPWITH_BASE_URL, never from the request's Host header: the
sitemaps are cached by path and shared by every reader.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import SitemapIndexItem
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from shipwith.catalog.models import Category, Tool
from shipwith.comparisons.models import Comparison


class SiteSitemap(Sitemap):
    changefreq = "weekly"

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SHIPWITH_BASE_URL).scheme

    def get_domain(self, site=None) -> str:
        # Netloc plus any path prefix, e.g. "example.org/shipwith".
        return settings.SHIPWITH_BASE_URL.split("://", 1)[1]


class ToolSitemap(SiteSitemap):
    def items(self):
        return Tool.objects.only("slug", "updated_at").order_by("pk")

    def lastmod(self, item: Tool):
        return item.updated_at


class CategorySitemap(SiteSitemap):
    def items(self):
        return Category.objects.only("slug").order_by("pk")


class ComparisonSitemap(SiteSitemap):
    def items(self):
        return Comparison.objects.published().select_related("tool_a", "tool_b").order_by("pk")

    def lastmod(self, item: Comparison):
        return item.moderator_written_at or item.published_at


class PageSitemap(SiteSitemap):
    changefreq = "daily"

    def items(self) -> list[str]:
        return ["web:home", "web:methodology"]

    def location(self, item: str) -> str:
        return reverse(item)


SITEMAPS = {
    "pages": PageSitemap,
    "categories": CategorySitemap,
    "tools": ToolSitemap,
    "comparisons": ComparisonSitemap,
}


def sitemap_index(request: HttpRequest) -> TemplateResponse:
    """The index of the section sitemaps (Django's own takes the domain from the request)."""
    sections = [
        SitemapIndexItem(
            settings.SHIPWITH_BASE_URL + reverse("web:sitemap-section", args=[section]), None
        )
        for section in SITEMAPS
    ]
    return TemplateResponse(
        request, "sitemap_index.xml", {"sitemaps": sections}, content_type="application/xml"
    )
