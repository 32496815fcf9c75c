"""The moderator: a second LLM stage that reads both panels of a published pair.

It is asked with the two tools in both orders at once; a pick that follows the order is "too
close to call". It reads verdicts only: a draft panel (a take by a low-capability model) gets
no read, and a read written before a panel became a draft is not shown.
"""

import asyncio
import hashlib
from dataclasses import dataclass

from asgiref.sync import async_to_sync

from shipwith.catalog.models import Tool
from shipwith.comparisons import prompts
from shipwith.comparisons.models import Comparison
from shipwith.core.text import plain_text_or_empty
from shipwith.panel.llm import Model, default_model_spec
from shipwith.panel.recusal import ModelChoice, model_choose
from shipwith.panel.selectors import PanelSummary

MAX_CHARS = 2400
TOO_CLOSE = (
    "Too close to call: asked with {first} shown first the moderator picked {first_pick}, and "
    "with {second} shown first it picked {second_pick}. The order decided, not the takes, so "
    "neither tool wins here."
)


def moderator_source(panel_a: PanelSummary, panel_b: PanelSummary) -> str:
    """Name the prompt layout and review versions a read is written from; either panel's
    change, or a new layout, changes it."""
    parts = [
        ",".join(f"{r.pk}.{r.version}" for r in sorted(panel.reviews, key=lambda r: r.pk))
        for panel in (panel_a, panel_b)
    ]
    text = f"{prompts.LAYOUT}|" + "|".join(parts)
    return text if len(text) <= 200 else "sha1:" + hashlib.sha1(text.encode()).hexdigest()


def read_due(comparison: Comparison | None, a: PanelSummary, b: PanelSummary) -> bool:
    """A published pair of two verdicts whose read is missing or older than its panels."""
    return (
        comparison is not None
        and comparison.published_at is not None
        and a.is_verdict
        and b.is_verdict
        and comparison.moderator_source != moderator_source(a, b)
    )


def read_shown(comparison: Comparison | None, a: PanelSummary, b: PanelSummary) -> bool:
    """A read is shown beside two verdicts only, never beside a draft or incomplete panel."""
    return bool(comparison and comparison.moderator_read) and a.is_verdict and b.is_verdict


def moderator_choice(a: Tool, b: Tool) -> ModelChoice:
    """The model that may moderate A vs B: never one made by either tool's vendor."""
    vendors = {tool.vendor.slug: tool.vendor.name for tool in (a, b) if tool.vendor}
    return model_choose(spec=default_model_spec(), vendors=vendors)


@dataclass
class ModeratorAnswer:
    read: str
    call: str  # "a", "b" or "close"
    model: str


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


def _schema(*shown: str) -> dict:
    return {
        "type": "object",
        "properties": {
            "pick": {"type": "string", "enum": list(shown)},
            "read": {"type": "string", "minLength": 1, "maxLength": MAX_CHARS},
        },
        "required": ["pick", "read"],
        "additionalProperties": False,
    }


async def _ask_both_orders(model: Model, *, system: str, asks: list[tuple[str, dict]]):
    # Both orders at once: the second costs tokens, not waiting; but one after the other for a
    # model that cannot take two calls at once (the embedded one: two generations in threads
    # crash llama.cpp). Each call runs on a fresh event loop, so the model's HTTP client is
    # closed on the same loop.
    calls = [
        (
            lambda prompt=prompt, schema=schema: model.complete(
                system=system, prompt=prompt, schema=schema, max_tokens=600
            )
        )
        for prompt, schema in asks
    ]
    try:
        if model.concurrent:
            return await asyncio.gather(*(call() for call in calls))
        return [await call() for call in calls]
    finally:
        await model.aclose()


def moderate(model: Model, a: Tool, b: Tool, panels: dict[int, PanelSummary]) -> ModeratorAnswer:
    """Ask with A first, then with B first; when the picks differ, the call is too close."""
    labels = _labels(a, b)
    asks = []
    for first, second in (("a", "b"), ("b", "a")):  # the schema lists the tools as shown
        one, two = (a, b) if first == "a" else (b, a)
        prompt = prompts.read_prompt(
            a=labels[first],
            b=labels[second],
            takes_a=_takes(one, panels[one.pk]),
            takes_b=_takes(two, panels[two.pk]),
        )
        asks.append((prompt, _schema(labels[first], labels[second])))
    answers = async_to_sync(_ask_both_orders)(model, system=prompts.system_prompt(), asks=asks)
    by_label = {label: key for key, label in labels.items()}
    picks = [by_label[answer.data["pick"]] for answer in answers]
    # Model output is data: cleaned to plain text like every take, and pages escape it too.
    read = plain_text_or_empty(answers[0].data["read"])[:MAX_CHARS]
    model_name = f"{answers[0].provider}:{answers[0].model_id}"
    if picks[0] == picks[1]:
        return ModeratorAnswer(read, picks[0], model_name)
    close = TOO_CLOSE.format(
        first=a.name, first_pick=labels[picks[0]], second=b.name, second_pick=labels[picks[1]]
    )
    return ModeratorAnswer(f"{close}\n\n{read}", "close", model_name)
