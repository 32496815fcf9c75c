"""The model boundary: one base class, one async method for a provider to implement."""

import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from shipwith.panel.llm.jsoncheck import parse_and_check
from shipwith.panel.llm.vendors import model_vendor


@dataclass
class Completion:
    """What a model returned, validated against the schema when one was given."""

    text: str
    data: dict | None
    model_id: str
    provider: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    repairs: int = 0  # answers that had to be asked again before this one was usable


@dataclass
class Generation:
    """One raw answer from a provider, before our validation."""

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    truncated: bool = False
    data: dict | None = None  # providers with native structured output hand the object over


class LLMError(Exception):
    """A model call that did not produce a usable answer; str() is the reason we record."""

    def __init__(self, reason: str, *, raw: str = "", tokens_in: int = 0, tokens_out: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.raw = raw
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out


class LLMTimeout(LLMError):
    """The provider did not answer in time, after our retries."""


class LLMUnavailable(LLMError):
    """The provider refused or failed (HTTP errors, connection errors), after our retries."""


class InvalidOutput(LLMError):
    """The model answered, but not with what the schema asks for, even after one repair."""


# English takes about 4.5 bytes a token, code and other scripts fewer: 3 errs on the short side.
BYTES_PER_TOKEN = 3

REPAIR_PROMPT = (
    "Your previous answer could not be used: {problem}. Reply again with only one JSON object "
    "that follows the schema exactly. Keep every string within its length limit."
)


class Model(ABC):
    """A chat model; subclasses implement `_generate` and set `provider`."""

    provider: ClassVar[str] = ""
    # Personas may be sent at once; the embedded model runs them one after another.
    concurrent: ClassVar[bool] = True
    # Tiny models write text of little value; pages and the CLI say so beside their output.
    low_capability: ClassVar[bool] = False
    # The context window in tokens, prompt and answer together; None: any prompt we send fits.
    context_tokens: int | None = None

    def __init__(self, model_id: str):
        self.model_id = model_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.model_id}"

    @property
    def vendor(self) -> str:
        """Slug of the company behind the model, for recusal ("" when unknown)."""
        return model_vendor(self.provider, self.model_id)

    def tokens_count(self, text: str) -> int:
        """The tokens `text` takes in a prompt: a cautious estimate (a token per BYTES_PER_TOKEN
        bytes of UTF-8) unless the model counts them itself."""
        return math.ceil(len(text.encode()) / BYTES_PER_TOKEN)

    async def complete(
        self, *, system: str, prompt: str, schema: dict | None = None, max_tokens: int = 512
    ) -> Completion:
        """Ask once; with a schema, validate on our side and allow one repair attempt."""
        started = time.monotonic()
        messages = [{"role": "user", "content": prompt}]
        first = await self._generate(
            system=system, messages=messages, schema=schema, max_tokens=max_tokens
        )
        tokens_in, tokens_out = first.tokens_in, first.tokens_out
        if schema is None:
            return self._completion(first.text, None, tokens_in, tokens_out, started)
        data, problem = self._check(first, schema)
        if problem is None:
            return self._completion(first.text, data, tokens_in, tokens_out, started)
        repair = messages + [
            {"role": "assistant", "content": first.text},
            {"role": "user", "content": REPAIR_PROMPT.format(problem=problem)},
        ]
        second = await self._generate(
            system=system, messages=repair, schema=schema, max_tokens=max_tokens
        )
        tokens_in, tokens_out = tokens_in + second.tokens_in, tokens_out + second.tokens_out
        data, second_problem = self._check(second, schema)
        if second_problem is None:
            completion = self._completion(second.text, data, tokens_in, tokens_out, started)
            completion.repairs = 1
            return completion
        raise InvalidOutput(
            f"invalid output after one repair: {second_problem}",
            raw=f"{first.text}\n--- repair ---\n{second.text}",
            tokens_in=tokens_in,
            tokens_out=tokens_out,
        )

    @abstractmethod
    async def _generate(
        self, *, system: str, messages: list[dict], schema: dict | None, max_tokens: int
    ) -> Generation:
        """Ask the provider once; the one method a provider implements."""

    async def aopen(self) -> None:  # noqa: B027 - a provider with no connections keeps this
        """Make the client a first call would make on the running event loop; call no model."""

    async def aclose(self) -> None:  # noqa: B027 - a provider with no connections keeps this
        """Release connections bound to the running event loop."""

    @staticmethod
    def _check(generation: Generation, schema: dict) -> tuple[dict | None, str | None]:
        if generation.data is not None:
            return parse_and_check(generation.data, schema)
        data, problem = parse_and_check(generation.text, schema)
        if problem and generation.truncated:
            problem = f"output was cut off at the token limit ({problem})"
        return data, problem

    def _completion(
        self, text: str, data: dict | None, tokens_in: int, tokens_out: int, started: float
    ) -> Completion:
        return Completion(
            text=text,
            data=data,
            model_id=self.model_id,
            provider=self.provider,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=round((time.monotonic() - started) * 1000),
        )
