"""Bounded retries with exponential backoff that honour the server's Retry-After."""

import asyncio
import random
import weakref
from collections.abc import Awaitable, Callable
from typing import Any


class Retryable(Exception):
    """A failure worth another try (429, 5xx, timeout, dropped connection)."""

    def __init__(self, reason: str, *, retry_after: float | None = None, timeout: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.timeout = timeout


async def with_retries(
    call: Callable[[], Awaitable[Any]],
    *,
    retries: int,
    base_delay: float = 1.0,
    max_delay: float = 60.0,
) -> Any:
    """Run `call`, retrying Retryable failures up to `retries` more times."""
    for attempt in range(retries + 1):
        try:
            return await call()
        except Retryable as exc:
            if attempt == retries:
                raise
            delay = exc.retry_after
            if delay is None:
                delay = base_delay * 2**attempt * random.uniform(0.5, 1.0)
            await asyncio.sleep(min(delay, max_delay))
    raise AssertionError("unreachable")


class LoopLimit:
    """A concurrency limit per event loop (each `panel_run` may run in a fresh loop)."""

    def __init__(self, limit: int):
        self.limit = max(1, limit)
        self._semaphores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __call__(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in self._semaphores:
            self._semaphores[loop] = asyncio.Semaphore(self.limit)
        return self._semaphores[loop]
