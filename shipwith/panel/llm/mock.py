"""A model for tests: answers are enqueued, requests are kept in `history`."""

import asyncio
import json
from dataclasses import dataclass

from shipwith.panel.llm.base import Generation, LLMError, Model


@dataclass
class Request:
    system: str
    messages: list[dict]
    schema: dict | None
    max_tokens: int

    @property
    def prompt(self) -> str:
        return self.messages[0]["content"]


class MockModel(Model):
    provider = "mock"

    def __init__(self, model_id: str = "mock", *, concurrent: bool = True, delay: float = 0.0):
        super().__init__(model_id)
        self.responses: list = []
        self.history: list[Request] = []
        self.concurrent = concurrent
        self.delay = delay

    def enqueue(self, *responses) -> "MockModel":
        """Queue answers: a dict (sent as JSON), a str, or an LLMError to raise."""
        self.responses.extend(responses)
        return self

    async def _generate(
        self, *, system: str, messages: list[dict], schema: dict | None, max_tokens: int
    ) -> Generation:
        self.history.append(Request(system, messages, schema, max_tokens))
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.responses:
            raise LLMError("mock model has no response queued")
        response = self.responses.pop(0)
        if callable(response):
            response = response(self.history[-1])
        if isinstance(response, Exception):
            raise response
        text = response if isinstance(response, str) else json.dumps(response)
        return Generation(
            text=text, tokens_in=len(system + str(messages)) // 4, tokens_out=len(text) // 4
        )
