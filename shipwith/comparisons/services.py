"""Writes of comparisons: which pairs the site publishes, and the moderator's read of each."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.catalog.pairs import canonical
from shipwith.comparisons.models import Comparison
from shipwith.comparisons.moderator import moderate, moderator_choice, moderator_source, read_due
from shipwith.comparisons.similarity import Doc, nearest_pairs
from shipwith.core.freshness import tools_touch
from shipwith.panel.selectors import panel_summaries

PEERS = 3


@dataclass
class PublishReport:
    published: int = 0
    updated: int = 0
    reads_queued: int = 0

    def __str__(self) -> str:
        return (
            f"{self.published} comparisons published, {self.updated} similarities updated, "
            f"{self.reads_queued} moderator reads queued"
        )


def _docs(category_id: int | None = None) -> tuple[list[Doc], dict[int, Tool]]:
    tools = Tool.objects.prefetch_related("tags").only(
        "pk", "slug", "name", "tagline", "description", "category_id"
    )
    if category_id is not None:
        tools = tools.filter(category_id=category_id)
    docs, by_id = [], {}
    for tool in tools:
        tags = " ".join(tag.name.replace("-", " ") for tag in tool.tags.all())
        # The name and tagline say what the tool is: count them twice against the description.
        text = f"{tool.name} {tool.name} {tool.tagline} {tool.tagline} {tool.description} {tags}"
        docs.append(Doc(tool.pk, tool.category_id, text))
        by_id[tool.pk] = tool
    return docs, by_id


def comparisons_publish(*, peers: int = PEERS, category_id: int | None = None) -> PublishReport:
    """Publish every tool's nearest peers in its category (or in one category: pairs never
    cross categories, so that is the same answer for its tools); publishing is additive.

    The moderator's reads are queued by the caller (`tasks.comparisons_publish_and_queue_reads`).
    """
    docs, tools = _docs(category_id)
    pairs = nearest_pairs(docs, peers)
    existing = Comparison.objects.all()
    if category_id is not None:
        existing = existing.filter(tool_a__category_id=category_id)
    existing = {(c.tool_a_id, c.tool_b_id): c for c in existing}
    now = timezone.now()
    report = PublishReport()
    new, changed, touched = [], [], set()
    for (x, y), score in pairs.items():
        first, second = canonical(tools[x], tools[y])
        a, b = first.pk, second.pk
        comparison = existing.get((a, b))
        if comparison is None:
            new.append(Comparison(tool_a_id=a, tool_b_id=b, published_at=now, similarity=score))
            touched |= {a, b}
        elif comparison.published_at is None or comparison.similarity != score:
            if comparison.published_at is None:
                comparison.published_at = now
                touched |= {a, b}
            comparison.similarity = score
            changed.append(comparison)
    with transaction.atomic():
        Comparison.objects.bulk_create(new, batch_size=500)
        Comparison.objects.bulk_update(changed, ["published_at", "similarity"], batch_size=500)
    report.published = len(new) + sum(1 for c in changed if c.published_at == now)
    report.updated = len(changed)
    if touched:
        tools_touch(*touched)
    return report


def moderator_read_write(*, comparison_id: int) -> Comparison | None:
    """Write the moderator's read of a published comparison from the eight current takes.

    The read is stored only if no other read was stored since this one started: a slow,
    late read never replaces a newer one.
    """
    comparison = (
        Comparison.objects.select_related("tool_a__vendor", "tool_b__vendor")
        .filter(pk=comparison_id)
        .first()
    )
    if comparison is None or comparison.published_at is None:
        return None
    a, b = comparison.tool_a, comparison.tool_b
    panels = panel_summaries([a.pk, b.pk])
    if not read_due(comparison, panels[a.pk], panels[b.pk]):
        return comparison
    source = moderator_source(panels[a.pk], panels[b.pk])
    choice = moderator_choice(a, b)
    if choice.model is None:  # recused with no usable alternate: the page says so
        return comparison
    answer = moderate(choice.model, a, b, panels)
    if not answer.read:
        return comparison
    stored = Comparison.objects.filter(
        pk=comparison.pk, moderator_source=comparison.moderator_source
    ).update(
        moderator_read=answer.read,
        moderator_call=answer.call,
        moderator_model=answer.model,
        moderator_written_at=timezone.now(),
        moderator_source=source,
    )
    if stored:
        tools_touch(a.pk, b.pk)
    comparison.refresh_from_db()
    return comparison
