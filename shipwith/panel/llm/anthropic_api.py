"""Anthropic's Messages API (the optional `anthropic` extra)."""

import asyncio
import os
import weakref

from django.conf import settings

from shipwith.core.http import retry_after_seconds
from shipwith.panel.llm.base import Generation, LLMTimeout, LLMUnavailable, Model
from shipwith.panel.llm.retry import LoopLimit, Retryable, with_retries

_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class AnthropicModel(Model):
    provider = "anthropic"

    def __init__(self, model_id: str, *, timeout: float | None = None, retries: int | None = None):
        super().__init__(model_id)
        try:
            import anthropic
        except ImportError as exc:
            raise LLMUnavailable(
                "anthropic models need: pip install 'shipwith[anthropic]'"
            ) from exc
        self.sdk = anthropic
        self.timeout = timeout or settings.SHIPWITH_LLM_TIMEOUT
        self.retries = settings.SHIPWITH_LLM_RETRIES if retries is None else retries
        self.limit = LoopLimit(settings.SHIPWITH_LLM_CONCURRENCY)

    def _client(self):
        # One client (and connection pool) per event loop, shared by model objects.
        per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
        key = (os.environ.get("ANTHROPIC_BASE_URL"), os.environ.get("ANTHROPIC_API_KEY"))
        if key not in per_loop:
            per_loop[key] = self.sdk.AsyncAnthropic(
                api_key=key[1], base_url=key[0], timeout=self.timeout, max_retries=0
            )
        return per_loop[key]

    async def aopen(self) -> None:
        self._client()

    async def aclose(self) -> None:
        per_loop = _clients.get(asyncio.get_running_loop(), {})
        for client in list(per_loop.values()):
            await client.close()
        per_loop.clear()

    async def _generate(
        self, *, system: str, messages: list[dict], schema: dict | None, max_tokens: int
    ) -> Generation:
        kwargs: dict = {}
        if schema is not None:
            # Structured output through a forced tool call: the input is the object we want.
            kwargs["tools"] = [
                {"name": "answer", "description": "Your answer.", "input_schema": schema}
            ]
            kwargs["tool_choice"] = {"type": "tool", "name": "answer"}
        sdk = self.sdk

        async def once() -> Generation:
            try:
                response = await self._client().messages.create(
                    model=self.model_id,
                    system=system,
                    messages=messages,
                    max_tokens=max_tokens,
                    **kwargs,
                )
            except sdk.APITimeoutError as exc:
                raise Retryable(f"timed out after {self.timeout:g}s", timeout=True) from exc
            except sdk.APIConnectionError as exc:
                raise Retryable(f"connection failed: {exc}") from exc
            except sdk.APIStatusError as exc:
                if exc.status_code == 429 or exc.status_code >= 500:
                    after = retry_after_seconds(exc.response.headers)
                    raise Retryable(f"HTTP {exc.status_code}", retry_after=after) from exc
                raise LLMUnavailable(f"server refused: HTTP {exc.status_code}") from exc
            return _generation(response)

        async with self.limit():
            try:
                return await with_retries(once, retries=self.retries)
            except Retryable as exc:
                error = LLMTimeout if exc.timeout else LLMUnavailable
                raise error(f"{exc.reason} ({self.retries + 1} attempts)") from exc


def _generation(response) -> Generation:
    import json

    text, data = "", None
    for block in response.content:
        if block.type == "tool_use":
            data = dict(block.input)
            text = json.dumps(data)
        elif block.type == "text":
            text += block.text
    return Generation(
        text=text,
        data=data,
        tokens_in=response.usage.input_tokens,
        tokens_out=response.usage.output_tokens,
        truncated=response.stop_reason == "max_tokens",
    )
