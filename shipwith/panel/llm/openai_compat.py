"""Any OpenAI-compatible server: OpenAI, Ollama, vLLM, llama.cpp's server, LM Studio…"""

import asyncio
import json
import os
import weakref

import openai
from django.conf import settings

from shipwith.core.http import retry_after_seconds
from shipwith.panel.llm.base import Generation, LLMTimeout, LLMUnavailable, Model
from shipwith.panel.llm.retry import LoopLimit, Retryable, with_retries

# How to ask for structured output, best first. Servers reject what they do not support (a 400)
# or fail open (a 200 that ignores the schema); either way we step down and remember it.
MODES = ("json_schema", "json_object_schema", "json_object", "prompt")
_learned_modes: dict[tuple[str, str], int] = {}
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

SCHEMA_INSTRUCTION = (
    "\n\nAnswer with only one JSON object, no prose around it, that follows this JSON schema:\n"
)


class OpenAICompatibleModel(Model):
    provider = "openai"

    def __init__(
        self,
        model_id: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        concurrency: int | None = None,
        backoff: float | None = None,
    ):
        super().__init__(model_id)
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        # Local servers take any key; the SDK insists on one being set.
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
        self.timeout = timeout or settings.SHIPWITH_LLM_TIMEOUT
        self.retries = settings.SHIPWITH_LLM_RETRIES if retries is None else retries
        self.backoff = settings.SHIPWITH_LLM_BACKOFF if backoff is None else backoff
        self.limit = LoopLimit(concurrency or settings.SHIPWITH_LLM_CONCURRENCY)
        self.context_tokens = settings.SHIPWITH_LLM_CONTEXT

    @property
    def _mode_key(self) -> tuple[str, str]:
        return (self.base_url or "openai", self.model_id)

    def _client(self) -> openai.AsyncOpenAI:
        # One client (and connection pool) per event loop and server, shared by model objects.
        per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
        key = (self.base_url, self.api_key, self.timeout)
        if key not in per_loop:
            per_loop[key] = openai.AsyncOpenAI(
                base_url=self.base_url,
                api_key=self.api_key,
                # The SDK's own type: openai 3 talks through httpx2, which refuses httpx's.
                timeout=openai.Timeout(self.timeout, connect=min(10.0, self.timeout)),
                max_retries=0,  # we retry ourselves, with our bounds and our records
            )
        return per_loop[key]

    async def aopen(self) -> None:
        self._client()

    async def aclose(self) -> None:
        per_loop = _clients.get(asyncio.get_running_loop(), {})
        client = per_loop.pop((self.base_url, self.api_key, self.timeout), None)
        if client is not None:
            await client.close()

    async def _generate(
        self, *, system: str, messages: list[dict], schema: dict | None, max_tokens: int
    ) -> Generation:
        async with self.limit():
            if schema is None:
                return await self._call(system, messages, None, max_tokens)
            while True:
                mode = MODES[_learned_modes.get(self._mode_key, 0)]
                try:
                    generation = await self._call(system, messages, (mode, schema), max_tokens)
                except FormatRejected as exc:
                    if not self._step_down(mode):
                        raise LLMUnavailable(f"server refused: {exc}") from exc
                    continue
                if mode == "json_schema" and not _looks_like_json(generation.text):
                    # Failed open: the server ignored the schema. Ask again a way it honours.
                    self._step_down(mode)
                    continue
                return generation

    def _step_down(self, mode: str) -> bool:
        index = MODES.index(mode)
        if index + 1 >= len(MODES):
            return False
        _learned_modes[self._mode_key] = max(_learned_modes.get(self._mode_key, 0), index + 1)
        return True

    async def _call(self, system, messages, structured, max_tokens) -> Generation:
        kwargs: dict = {}
        if structured is not None:
            mode, schema = structured
            if mode == "json_schema":
                kwargs["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "answer",
                        "schema": strict_schema(schema),
                        "strict": True,
                    },
                }
            else:
                system = system + SCHEMA_INSTRUCTION + json.dumps(schema)
                if mode == "json_object_schema":
                    # llama.cpp's extension: a grammar built from the schema.
                    kwargs["response_format"] = {"type": "json_object", "schema": schema}
                elif mode == "json_object":
                    kwargs["response_format"] = {"type": "json_object"}
        request = [{"role": "system", "content": system}, *messages]

        async def once() -> Generation:
            try:
                response = await self._client().chat.completions.create(
                    model=self.model_id, messages=request, max_tokens=max_tokens, **kwargs
                )
            except openai.APIStatusError as exc:
                # Refusals of a response_format come as 400, 422 or even 500 (llama.cpp).
                if structured is not None and _blames_response_format(exc):
                    raise FormatRejected(f"HTTP {exc.status_code} on response_format") from exc
                _raise_retryable(exc)
                raise
            except openai.APITimeoutError as exc:
                raise Retryable(f"timed out after {self.timeout:g}s", timeout=True) from exc
            except openai.APIConnectionError as exc:
                raise Retryable(f"connection failed: {exc}") from exc
            except (openai.APIResponseValidationError, ValueError) as exc:
                raise Retryable(f"malformed response: {exc}") from exc
            return _generation(response)

        try:
            return await with_retries(once, retries=self.retries, base_delay=self.backoff)
        except Retryable as exc:
            attempts = self.retries + 1
            error = LLMTimeout if exc.timeout else LLMUnavailable
            raise error(f"{exc.reason} ({attempts} attempts)") from exc
        except FormatRejected:
            raise
        except openai.APIStatusError as exc:
            raise LLMUnavailable(f"server refused: HTTP {exc.status_code}") from exc


# Keywords OpenAI's strict mode refuses; we still enforce them when we validate the answer.
_NOT_IN_STRICT = frozenset(
    {"minLength", "maxLength", "minimum", "maximum", "maxItems", "x-length-hint"}
)


def strict_schema(schema):
    """The schema without the keywords strict mode refuses (lengths and bounds)."""
    if isinstance(schema, dict):
        return {
            key: (
                {name: strict_schema(sub) for name, sub in value.items()}
                if key == "properties"  # property names are data, never keywords
                else strict_schema(value)
            )
            for key, value in schema.items()
            if key not in _NOT_IN_STRICT
        }
    if isinstance(schema, list):
        return [strict_schema(item) for item in schema]
    return schema


class FormatRejected(Exception):
    """The server refused the response_format we asked for."""


def _blames_response_format(exc: openai.APIStatusError) -> bool:
    if exc.status_code in (429,) or exc.status_code < 400:
        return False
    try:
        body = exc.response.text
    except Exception:
        body = ""
    text = f"{exc.message} {body}".lower()
    return any(word in text for word in ("response_format", "json_schema", "schema", "strict"))


def _raise_retryable(exc: openai.APIStatusError) -> None:
    after = retry_after_seconds(exc.response.headers)
    if exc.status_code == 429:
        raise Retryable("rate limited (429)", retry_after=after) from exc
    if exc.status_code >= 500:
        raise Retryable(f"server error {exc.status_code}", retry_after=after) from exc


def _generation(response) -> Generation:
    if not getattr(response, "choices", None):
        raise Retryable("malformed response: no choices")
    choice = response.choices[0]
    usage = getattr(response, "usage", None)
    return Generation(
        text=(choice.message.content or "") if choice.message else "",
        tokens_in=getattr(usage, "prompt_tokens", 0) or 0,
        tokens_out=getattr(usage, "completion_tokens", 0) or 0,
        truncated=choice.finish_reason == "length",
    )


def _looks_like_json(text: str) -> bool:
    text = text.strip().removeprefix("```json").removeprefix("```").strip()
    return text.startswith("{")
