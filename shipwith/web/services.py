"""Writes of the web app: which comparisons the site publishes, and their moderator's reads."""

import asyncio
import hashlib
from dataclasses import dataclass
from importlib import resources

from asgiref.sync import async_to_sync
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.comparisons.models import Comparison
from shipwith.core.freshness import tools_touch
from shipwith.core.text import plain_text_or_empty
from shipwith.panel.selectors import PanelSummary, panel_summaries
from shipwith.web.similarity import Doc, nearest_pairs

PEERS = 3
MODERATOR_PROMPT_VERSION = 2
MODERATOR_MAX_CHARS = 2400
TOO_CLOSE = (
    "Too close to call: asked with {first} shown first the moderator picked {first_pick}, and "
    "with {second} shown first it picked {second_pick}. The order decided, not the takes, so "
    "neither tool wins here."
)
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


def _labels(a: Tool, b: Tool) -> dict[str, str]:
    """The name the model picks each tool by (slugs tell apart two tools of one name)."""
    if a.name.casefold() != b.name.casefold():
        return {"a": a.name, "b": b.name}
    return {"a": f"{a.name} ({a.slug})", "b": f"{b.name} ({b.slug})"}


def _moderator_schema(*shown: str) -> dict:
    return {
        "type": "object",
        "properties": {
            "pick": {"type": "string", "enum": list(shown)},
            "read": {"type": "string", "minLength": 1, "maxLength": MODERATOR_MAX_CHARS},
        },
        "required": ["pick", "read"],
        "additionalProperties": False,
    }


async def _ask_both_orders(model, *, system: str, asks: list[tuple[str, dict]]):
    # Both orders at once: the second costs tokens, not waiting. Each call runs on a fresh
    # event loop, so the model's HTTP client is closed on the same loop.
    try:
        return await asyncio.gather(
            *(
                model.complete(system=system, prompt=prompt, schema=schema, max_tokens=600)
                for prompt, schema in asks
            )
        )
    finally:
        await model.aclose()


@dataclass
class ModeratorAnswer:
    read: str
    call: str  # "a", "b" or "close"
    model: str


def _moderate(model, a: Tool, b: Tool, panels: dict[int, PanelSummary]) -> ModeratorAnswer:
    """Ask with A first, then with B first; when the picks differ, the call is too close."""
    labels = _labels(a, b)
    template = _moderator_text("moderator_prompt.txt")
    asks = []
    for first, second in (("a", "b"), ("b", "a")):  # the schema lists the tools as shown
        one, two = (a, b) if first == "a" else (b, a)
        prompt = template.format(
            a=labels[first],
            b=labels[second],
            takes_a=_takes(one, panels[one.pk]),
            takes_b=_takes(two, panels[two.pk]),
        )
        asks.append((prompt, _moderator_schema(labels[first], labels[second])))
    answers = async_to_sync(_ask_both_orders)(
        model, system=_moderator_text("moderator_system.txt"), asks=asks
    )
    by_label = {label: key for key, label in labels.items()}
    picks = [by_label[answer.data["pick"]] for answer in answers]
    # Model output is data: cleaned to plain text like every take, and pages escape it too.
    read = plain_text_or_empty(answers[0].data["read"])[:MODERATOR_MAX_CHARS]
    model_name = f"{answers[0].provider}:{answers[0].model_id}"
    if picks[0] == picks[1]:
        return ModeratorAnswer(read, picks[0], model_name)
    close = TOO_CLOSE.format(
        first=a.name, first_pick=labels[picks[0]], second=b.name, second_pick=labels[picks[1]]
    )
    return ModeratorAnswer(f"{close}\n\n{read}", "close", model_name)


def moderator_choice(a: Tool, b: Tool):
    """The model that may moderate A vs B: never one made by either tool's vendor."""
    from shipwith.panel.llm import default_model_spec
    from shipwith.panel.recusal import model_choose

    vendors = {tool.vendor.slug: tool.vendor.name for tool in (a, b) if tool.vendor}
    return model_choose(spec=default_model_spec(), vendors=vendors)


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
    if not _needs_read(comparison, panels[a.pk], panels[b.pk]):
        return comparison
    source = moderator_source(panels[a.pk], panels[b.pk])
    choice = moderator_choice(a, b)
    if choice.model is None:  # recused with no usable alternate: the page says so
        return comparison
    answer = _moderate(choice.model, a, b, panels)
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
