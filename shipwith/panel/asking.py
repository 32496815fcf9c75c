"""Ask a model for one persona's review: the request every seat of a tool shares, the
answer validated against our schema, and one repair when it breaks our rules."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from shipwith.catalog.models import Tool
from shipwith.catalog.selectors import FactRow
from shipwith.panel import prompts
from shipwith.panel.grounding import facts_shown, source_texts, source_texts_cut
from shipwith.panel.llm import Completion, LLMError, Model
from shipwith.panel.models import Persona
from shipwith.panel.schema import ReviewOutput, review_json_schema

# Room for the longest answer the schema allows; the embedded grammar bounds it anyway.
MAX_TOKENS = 900
# Room a prompt leaves in a model's context window: the answer, and in a repair the first
# answer quoted back, plus the chat template's own tokens.
RESERVE_TOKENS = 2 * MAX_TOKENS + 96
FIT_TRIES, FIT_MARGIN = 4, 0.95


@dataclass
class ReviewRequest:
    system: str
    prefix: str
    sources: list[tuple[int | None, str]]
    facts: list[FactRow]
    tool_name: str
    schema: dict
    cards: dict[int, str]  # each persona's part, by persona id, placed after the prefix

    def prompt(self, persona) -> str:
        """What `persona`'s seat is asked: the shared prefix, then its card."""
        return self.prefix + self.cards[persona.pk]


def review_request(
    tool: Tool, *, personas: Sequence[Persona], models: Sequence[Model] = ()
) -> ReviewRequest:
    """What each of `personas` is asked about the tool: one prefix for all (a server caches
    it), then the persona's card. The prefix's material is cut to fit the smallest context
    window among `models`, with the longest card after it and room for the answer."""
    cards = {persona.pk: prompts.persona_card(persona, tool_name=tool.name) for persona in personas}
    sources = source_texts(tool)
    facts = facts_shown(tool)
    facts_table = prompts.facts_table(facts)
    fence = prompts.Fence.random()
    system = prompts.system_prompt()

    def prefix_with(parts: list[tuple[int | None, str]]) -> str:
        material = "\n".join(text for _, text in parts)
        return prompts.shared_prefix(material=material, facts=facts_table, fence=fence)

    windows = [model for model in models if model.context_tokens]
    if windows:
        model = min(windows, key=lambda model: model.context_tokens)
        sources = material_fit(
            model, sources, prefix_with, system + max(cards.values(), key=len, default="")
        )
    return ReviewRequest(
        system=system,
        prefix=prefix_with(sources),
        sources=sources,
        facts=facts,
        tool_name=tool.name,
        schema=review_json_schema(),
        cards=cards,
    )


def material_fit(
    model: Model,
    sources: list[tuple[int | None, str]],
    prefix_with: Callable[[list[tuple[int | None, str]]], str],
    rest: str,
) -> list[tuple[int | None, str]]:
    """The sources, their snapshots cut so that the prompt (`rest` is its part besides the
    prefix) leaves RESERVE_TOKENS of `model`'s context window for the answers. Counted in the
    model's own tokens; the cut is sized from the count and checked again, a few times at most.
    """
    entry_only = model.tokens_count(prefix_with(sources[:1]))
    budget = model.context_tokens - RESERVE_TOKENS - model.tokens_count(rest) - entry_only
    fitted = sources
    for _ in range(FIT_TRIES):
        used = model.tokens_count(prefix_with(fitted)) - entry_only  # the snapshots' tokens
        if used <= budget:
            return fitted
        chars = sum(len(text) for _, text in fitted[1:])
        fitted = source_texts_cut(sources, int(chars * max(budget, 0) / used * FIT_MARGIN))
    return sources[:1]  # the catalog entry alone


async def review_ask(
    model: Model, request: ReviewRequest, prompt: str
) -> tuple[Completion, ReviewOutput]:
    """Ask for a review; a schema-valid answer that breaks our rules gets one repair."""
    completion = await model.complete(
        system=request.system, prompt=prompt, schema=request.schema, max_tokens=MAX_TOKENS
    )
    try:
        return completion, ReviewOutput.model_validate(completion.data)
    except ValidationError as exc:
        problem = _first_problem(exc)
    repair = f"{prompt}\n\nYour previous answer:\n{completion.text}\n\n" + prompts.repair_prompt(
        problem
    )
    second = await model.complete(
        system=request.system, prompt=repair, schema=request.schema, max_tokens=MAX_TOKENS
    )
    try:
        output = ReviewOutput.model_validate(second.data)
    except ValidationError as exc:
        raise LLMError(
            f"invalid review after one repair: {_first_problem(exc)}",
            raw=f"{completion.text}\n--- repair ---\n{second.text}",
        ) from exc
    second.text = f"{completion.text}\n--- repair ---\n{second.text}"  # keep both as raw output
    second.repairs += completion.repairs + 1
    second.tokens_in += completion.tokens_in
    second.tokens_out += completion.tokens_out
    second.latency_ms += completion.latency_ms
    return second, output


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "answer"
    return f"{where}: {error['msg']}"
