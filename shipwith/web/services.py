"""Writes of the web app: which comparisons the site publishes, and their moderator's reads."""

import hashlib
from dataclasses import dataclass
from importlib import resources

from asgiref.sync import async_to_sync
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.core.freshness import tools_touch
from shipwith.core.text import plain_text_or_empty
from shipwith.panel.selectors import PanelSummary, panel_summaries
from shipwith.web.models import Comparison
from shipwith.web.similarity import Doc, nearest_pairs

PEERS = 3
MODERATOR_PROMPT_VERSION = 1
MODERATOR_MAX_CHARS = 2400
QUEUED_FOR = 600


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


def _docs() -> tuple[list[Doc], dict[int, str]]:
    tools = Tool.objects.prefetch_related("tags").only(
        "pk", "slug", "name", "tagline", "description", "category_id"
    )
    docs, slugs = [], {}
    for tool in tools:
        tags = " ".join(tag.name.replace("-", " ") for tag in tool.tags.all())
        # The name and tagline say what the tool is: count them twice against the description.
        text = f"{tool.name} {tool.name} {tool.tagline} {tool.tagline} {tool.description} {tags}"
        docs.append(Doc(tool.pk, tool.category_id, text))
        slugs[tool.pk] = tool.slug
    return docs, slugs


def comparisons_publish(*, peers: int = PEERS) -> PublishReport:
    """Publish every tool's nearest peers in its category; publishing is additive."""
    docs, slugs = _docs()
    pairs = nearest_pairs(docs, peers)
    existing = {(c.tool_a_id, c.tool_b_id): c for c in Comparison.objects.all()}
    now = timezone.now()
    report = PublishReport()
    new, changed, touched = [], [], set()
    for (x, y), score in pairs.items():
        a, b = (x, y) if slugs[x] < slugs[y] else (y, x)
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
    report.reads_queued = moderator_reads_refresh()
    return report


def moderator_source(panel_a: PanelSummary, panel_b: PanelSummary) -> str:
    """Name the review versions a read is written from; it changes when either panel does."""
    parts = [
        ",".join(f"{r.pk}.{r.version}" for r in sorted(panel.reviews, key=lambda r: r.pk))
        for panel in (panel_a, panel_b)
    ]
    text = f"v{MODERATOR_PROMPT_VERSION}|" + "|".join(parts)
    return text if len(text) <= 200 else "sha1:" + hashlib.sha1(text.encode()).hexdigest()


def _needs_read(comparison: Comparison | None, a: PanelSummary, b: PanelSummary) -> bool:
    return (
        comparison is not None
        and comparison.published_at is not None
        and a.is_complete
        and b.is_complete
        and comparison.moderator_source != moderator_source(a, b)
    )


def _enqueue_read(comparison_id: int, source: str) -> bool:
    # One queued job per comparison and source, however many requests notice it is stale.
    marker = f"moderator:queued:{comparison_id}:{hashlib.sha1(source.encode()).hexdigest()}"
    if not cache.add(marker, 1, QUEUED_FOR):
        return False
    from shipwith.web.tasks import moderator_read_task

    transaction.on_commit(lambda: moderator_read_task.enqueue(comparison_id))
    return True


def moderator_read_request(
    comparison: Comparison | None, panel_a: PanelSummary, panel_b: PanelSummary
) -> bool:
    """Queue a (re)write of a published comparison's read when its panels changed."""
    if not _needs_read(comparison, panel_a, panel_b):
        return False
    return _enqueue_read(comparison.pk, moderator_source(panel_a, panel_b))


def _enqueue_reads(comparison_ids: list[int]) -> None:
    from shipwith.web.tasks import moderator_read_task

    with transaction.atomic():  # one commit for the whole batch, not one per job
        for comparison_id in comparison_ids:
            moderator_read_task.enqueue(comparison_id)


def moderator_reads_refresh() -> int:
    """Queue reads for every published comparison whose panels changed; return how many."""
    comparisons = list(Comparison.objects.published())
    ids = {c.tool_a_id for c in comparisons} | {c.tool_b_id for c in comparisons}
    panels = panel_summaries(list(ids))
    stale = [c.pk for c in comparisons if _needs_read(c, panels[c.tool_a_id], panels[c.tool_b_id])]
    if stale:
        transaction.on_commit(lambda: _enqueue_reads(stale))
    return len(stale)


def _moderator_text(name: str) -> str:
    return resources.files("shipwith.web").joinpath("prompts", name).read_text()


def _takes(tool: Tool, panel: PanelSummary) -> str:
    lines = [f"{tool.name} ({tool.tagline})" if tool.tagline else tool.name]
    for review in panel.reviews:
        lines.append(f"- {review.persona.name}: {review.verdict.upper()}. {review.take}")
    return "\n".join(lines)


async def _complete_and_close(model, **request):
    # Each call runs on a fresh event loop: close the model's HTTP client on the same loop.
    try:
        return await model.complete(**request)
    finally:
        await model.aclose()


def moderator_read_write(*, comparison_id: int) -> Comparison | None:
    """Write the moderator's read of a published comparison from the eight current takes."""
    from shipwith.panel.llm import default_model_spec, model_for

    comparison = (
        Comparison.objects.select_related("tool_a", "tool_b").filter(pk=comparison_id).first()
    )
    if comparison is None or comparison.published_at is None:
        return None
    a, b = comparison.tool_a, comparison.tool_b
    panels = panel_summaries([a.pk, b.pk])
    if not _needs_read(comparison, panels[a.pk], panels[b.pk]):
        return comparison
    source = moderator_source(panels[a.pk], panels[b.pk])
    prompt = _moderator_text("moderator_prompt.txt").format(
        a=a.name, b=b.name, takes_a=_takes(a, panels[a.pk]), takes_b=_takes(b, panels[b.pk])
    )
    completion = async_to_sync(_complete_and_close)(
        model_for(default_model_spec()),
        system=_moderator_text("moderator_system.txt"),
        prompt=prompt,
        max_tokens=400,
    )
    text = plain_text_or_empty(completion.text)[:MODERATOR_MAX_CHARS]  # model output is data
    if not text:
        return comparison
    Comparison.objects.filter(pk=comparison.pk).update(
        moderator_read=text,
        moderator_model=f"{completion.provider}:{completion.model_id}",
        moderator_written_at=timezone.now(),
        moderator_source=source,
    )
    tools_touch(a.pk, b.pk)
    comparison.refresh_from_db()
    return comparison
