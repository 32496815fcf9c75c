"""Atom feeds: comparisons as their two panels become verdicts, and new takes from the panel
with the changes of tools' facts ("GPT-4o mini: output price $0.60 → $0.80 per 1M tokens").

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

from shipwith.comparisons.selectors import Decided, comparisons_decided
from shipwith.core.text import plain_text_or_empty
from shipwith.panel.models import Review
from shipwith.web.caching import page_shows
from shipwith.web.facts import FactNews, latest_fact_news, source_name
from shipwith.web.selectors import latest_verdicts

# Characters XML 1.0 cannot carry: one stray control character would fail the whole feed.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


DRAFT_TAKE = (
    "A draft take by the embedded model, not a verdict: the tool gets one when a capable model "
    "reviews it."
)


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
    """A comparison enters once both its panels are verdicts (never a draft or an incomplete
    panel), dated then, with the pick in its summary: like the digest."""

    url_name = "web:feed-comparisons"
    title = "shipwith: new comparisons"
    subtitle = "Two AI tools side by side, once the panel has a verdict on both: the pick."

    def get_object(self, request) -> list[Decided]:
        decided = comparisons_decided(limit=50)
        # The pick may turn on reader votes, which touch only the tools they move.
        page_shows(
            request,
            *[pk for d in decided for pk in (d.comparison.tool_a_id, d.comparison.tool_b_id)],
        )
        return decided

    def items(self, decided: list[Decided]) -> list[Decided]:
        return decided

    def item_title(self, item: Decided) -> str:
        a, b = item.comparison.tool_a, item.comparison.tool_b
        return f"{as_title(a.name)} vs {as_title(b.name)}: which one should you ship with?"

    def item_description(self, item: Decided) -> str:
        """The pick and its reason, as the page's answer puts it."""
        winner = item.pick.winner
        answer = f"Ship with {winner.name}. " if winner else ""
        return as_summary(answer + item.pick.reason)

    def item_link(self, item: Decided) -> str:
        return absolute(item.comparison.get_absolute_url())

    def item_pubdate(self, item: Decided):
        return item.decided_at

    def item_updateddate(self, item: Decided):
        return max(item.decided_at, item.comparison.moderator_written_at or item.decided_at)


class VerdictsFeed(SiteFeed):
    """New takes (a flip marked) and changes of tools' facts, newest first."""

    url_name = "web:feed-verdicts"
    title = "shipwith: new verdicts"
    subtitle = (
        "Every new ship or skip from the four-reviewer panel, and every changed price or fact."
    )
    LIMIT = 50

    def items(self) -> list[Review | FactNews]:
        news = [*latest_verdicts(limit=self.LIMIT), *latest_fact_news(limit=self.LIMIT)]
        news.sort(key=self.item_pubdate, reverse=True)
        return news[: self.LIMIT]

    def item_title(self, item: Review | FactNews) -> str:
        if isinstance(item, FactNews):
            return as_title(item.sentence)
        flip = f" (was {item.previous_verdict})" if item.flipped else ""
        draft = " (draft)" if item.is_low_capability else ""
        title = f"{as_title(item.persona.name)}: {item.verdict} {as_title(item.tool.name)}"
        return f"{title}{flip}{draft}"

    def item_description(self, item: Review | FactNews) -> str:
        if isinstance(item, FactNews):
            where = source_name(item.change.source)
            url = item.change.source.url if item.change.source else ""
            return as_summary(f"{item.sentence}, as {where} says", *([url] if url else []))
        if item.is_low_capability:
            return as_summary(item.take, DRAFT_TAKE)
        return as_summary(item.take)

    def item_link(self, item: Review | FactNews) -> str:
        if isinstance(item, FactNews):
            return absolute(item.tool.get_absolute_url() + "#facts")
        return absolute(item.tool.get_absolute_url() + f"#take-{item.persona.key}")

    def item_guid(self, item: Review | FactNews) -> str:
        if isinstance(item, FactNews):
            return f"shipwith-fact-change-{item.pk}"
        return f"shipwith-review-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Review | FactNews):
        return item.change.read_at if isinstance(item, FactNews) else item.created_at

    def item_author_name(self, item: Review | FactNews) -> str:
        if isinstance(item, FactNews):
            return as_title(source_name(item.change.source))
        return as_title(f"{item.persona.name} ({item.provider}:{item.model_id})")
