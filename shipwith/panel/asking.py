"""Ask a model for one persona's review: the request every seat of a tool shares, the
answer validated against our schema, and one repair when it breaks our rules."""

from dataclasses import dataclass

from pydantic import ValidationError

from shipwith.catalog.models import Tool
from shipwith.catalog.selectors import FactRow
from shipwith.panel import prompts
from shipwith.panel.grounding import facts_shown, source_texts
from shipwith.panel.llm import Completion, LLMError, Model
from shipwith.panel.schema import ReviewOutput, review_json_schema

# Room for the longest answer the schema allows; the embedded grammar bounds it anyway.
MAX_TOKENS = 900


@dataclass
class ReviewRequest:
    system: str
    prefix: str
    sources: list[tuple[int | None, str]]
    facts: list[FactRow]
    tool_name: str
    schema: dict


def review_request(tool: Tool) -> ReviewRequest:
    sources = source_texts(tool)
    facts = facts_shown(tool)
    prefix = prompts.shared_prefix(
        material="\n".join(text for _, text in sources),
        facts=prompts.facts_table(facts),
        fence=prompts.Fence.random(),
    )
    return ReviewRequest(
        system=prompts.system_prompt(),
        prefix=prefix,
        sources=sources,
        facts=facts,
        tool_name=tool.name,
        schema=review_json_schema(),
    )


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
