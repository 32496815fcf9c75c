"""Atom feeds: newly published comparisons, and new verdicts from the panel.

Links are absolute from SHIPWITH_BASE_URL, never from the request's Host: the feeds are cached
by path, so one client's Host header must not end up in everybody's copy. Summaries are plain
text escaped once more, because Atom readers render `type="html"` summaries as HTML.
"""

import re

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from shipwith.core.text import plain_text_or_empty
from shipwith.panel.models import Review
from shipwith.web.models import Comparison
from shipwith.web.selectors import latest_comparisons, latest_verdicts

# Characters XML 1.0 cannot carry: one stray control character would fail the whole feed.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def absolute(path: str) -> str:
    return settings.SHIPWITH_BASE_URL + path


def as_title(text: str) -> str:
    """Plain text, fit for an XML element."""
    return NOT_XML.sub("", plain_text_or_empty(text))


def as_summary(*parts: str) -> str:
    """Plain text that an HTML-reading feed reader shows as text, never as markup."""
    return escape(" — ".join(as_title(part) for part in parts))


class SiteFeed(Feed):
    feed_type = Atom1Feed

    def link(self) -> str:
        return absolute(reverse("web:home"))

    def feed_url(self) -> str:
        return absolute(reverse(self.url_name))


class ComparisonsFeed(SiteFeed):
    url_name = "web:feed-comparisons"
    title = "shipwith: new comparisons"
    subtitle = "Two AI tools side by side: the panel's verdicts, the pricing read, the pick."

    def items(self) -> list[Comparison]:
        return latest_comparisons(limit=50)

    def item_title(self, item: Comparison) -> str:
        names = f"{as_title(item.tool_a.name)} vs {as_title(item.tool_b.name)}"
        return f"{names}: which one should you ship with?"

    def item_description(self, item: Comparison) -> str:
        return as_summary(item.tool_a.tagline, "versus", item.tool_b.tagline)

    def item_link(self, item: Comparison) -> str:
        return absolute(item.get_absolute_url())

    def item_pubdate(self, item: Comparison):
        return item.published_at

    def item_updateddate(self, item: Comparison):
        return item.moderator_written_at or item.published_at


class VerdictsFeed(SiteFeed):
    url_name = "web:feed-verdicts"
    title = "shipwith: new verdicts"
    subtitle = "Every new ship or skip from the four-reviewer panel."

    def items(self) -> list[Review]:
        return latest_verdicts(limit=50)

    def item_title(self, item: Review) -> str:
        flip = f" (was {item.previous_verdict})" if item.flipped else ""
        return f"{as_title(item.persona.name)}: {item.verdict} {as_title(item.tool.name)}{flip}"

    def item_description(self, item: Review) -> str:
        return as_summary(item.take)

    def item_link(self, item: Review) -> str:
        return absolute(item.tool.get_absolute_url() + f"#take-{item.persona.key}")

    def item_guid(self, item: Review) -> str:
        return f"shipwith-review-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Review):
        return item.created_at

    def item_author_name(self, item: Review) -> str:
        return as_title(f"{item.persona.name} ({item.provider}:{item.model_id})")
