"""sitemap.xml: tools, categories, published comparisons and the fixed pages."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from shipwith.catalog.models import Category, Tool
from shipwith.web.models import Comparison


class ToolSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Tool.objects.only("slug", "updated_at").order_by("pk")

    def lastmod(self, item: Tool):
        return item.updated_at


class CategorySitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Category.objects.only("slug").order_by("pk")


class ComparisonSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Comparison.objects.published().select_related("tool_a", "tool_b").order_by("pk")

    def lastmod(self, item: Comparison):
        return item.moderator_written_at or item.published_at


class PageSitemap(Sitemap):
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
