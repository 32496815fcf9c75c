"""One event loop per process, in a background thread, for the model calls of panel runs.

Model calls run there, so HTTP clients and their connection pools outlive a single panel;
outcomes come back through a queue to the calling thread, which alone touches the database.
"""

import asyncio
import os
import queue
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

Call = tuple[Any, Callable[[], Awaitable[Any]]]

_lock = threading.Lock()
_state: dict[str, Any] = {"loop": None, "thread": None, "pid": None}


def _loop() -> asyncio.AbstractEventLoop:
    with _lock:
        thread = _state["thread"]
        if _state["pid"] != os.getpid() or thread is None or not thread.is_alive():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="panel-llm", daemon=True)
            thread.start()
            _state.update(loop=loop, thread=thread, pid=os.getpid())
        return _state["loop"]


def as_completed(
    *,
    parallel: list[Call],
    in_turn: list[Call],
    on_wait: Callable[[], None] | None = None,
    wait: float | None = None,
) -> Iterator[tuple[Any, Any]]:
    """Yield (key, result or exception) for every call as it finishes.

    `parallel` calls start at once; `in_turn` calls run one after another beside them. While
    none has finished, `on_wait` is called in the caller's thread every `wait` seconds.
    """
    outcomes: queue.Queue = queue.Queue()

    async def settle(key, call) -> None:
        try:
            outcomes.put((key, await call()))
        except BaseException as exc:  # the caller must hear about every call, whatever happens
            outcomes.put((key, exc))

    async def main() -> None:
        async def one_by_one() -> None:
            for key, call in in_turn:
                await settle(key, call)

        await asyncio.gather(one_by_one(), *(settle(key, call) for key, call in parallel))

    future = asyncio.run_coroutine_threadsafe(main(), _loop())
    for _ in range(len(parallel) + len(in_turn)):
        while True:
            try:
                outcome = outcomes.get(timeout=wait if on_wait else None)
                break
            except queue.Empty:
                on_wait()
        yield outcome
    future.result()
