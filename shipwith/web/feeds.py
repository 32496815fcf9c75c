"""Atom feeds: newly published comparisons, and new verdicts from the panel."""

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from shipwith.panel.models import Review
from shipwith.web.models import Comparison
from shipwith.web.selectors import latest_comparisons, latest_verdicts


class ComparisonsFeed(Feed):
    feed_type = Atom1Feed
    title = "shipwith: new comparisons"
    subtitle = "Two AI tools side by side: the panel's verdicts, the pricing read, the pick."

    def link(self) -> str:
        return reverse("web:home")

    def items(self) -> list[Comparison]:
        return latest_comparisons(limit=50)

    def item_title(self, item: Comparison) -> str:
        return f"{item.tool_a.name} vs {item.tool_b.name}: which one should you ship with?"

    def item_description(self, item: Comparison) -> str:
        return f"{item.tool_a.tagline} — versus — {item.tool_b.tagline}"

    def item_pubdate(self, item: Comparison):
        return item.published_at

    def item_updateddate(self, item: Comparison):
        return item.moderator_written_at or item.published_at


class VerdictsFeed(Feed):
    feed_type = Atom1Feed
    title = "shipwith: new verdicts"
    subtitle = "Every new ship or skip from the four-reviewer panel."

    def link(self) -> str:
        return reverse("web:home")

    def items(self) -> list[Review]:
        return latest_verdicts(limit=50)

    def item_title(self, item: Review) -> str:
        flip = f" (was {item.previous_verdict})" if item.flipped else ""
        return f"{item.persona.name}: {item.verdict} {item.tool.name}{flip}"

    def item_description(self, item: Review) -> str:
        return item.take

    def item_link(self, item: Review) -> str:
        return item.tool.get_absolute_url() + f"#take-{item.persona.key}"

    def item_guid(self, item: Review) -> str:
        return f"shipwith-review-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Review):
        return item.created_at

    def item_author_name(self, item: Review) -> str:
        return f"{item.persona.name} ({item.provider}:{item.model_id})"
