"""Rate limits for every app (votes, newsletter, admin, API), counted where every process sees them.

Fixed windows: the hits on a key in the current window (this minute, this UTC day…) are one
counter (core/counters.py: the database, or Redis), raised by one atomic statement. Every
gunicorn worker, app server and task worker counts together.

A process claims hits in blocks: for a generous limit it raises the shared counter by a
hundredth of it (at most BLOCK_MOST) and numbers its next requests from that block without
writing again. Every hit has its own number across all processes, so a window never allows
more than the limit; it may refuse early by the unused rest of other processes' blocks (under
1% of the limit for each of their threads that claimed at the same moment: a block a thread
claims beside another is kept with it, never dropped). A limit under 200 a window is counted
hit by hit.

A limit "per day" that must hold for any 24 hours, not per calendar day (whose edge lets twice
the limit through in two minutes), is a rolling limit (`rolling_limit_exceeded`): the period is
cut into slices, and a hit is allowed while the current slice and the whole slices before it,
one period's worth plus the current one, hold fewer hits than the limit.

We wrote these lines rather than use django-ratelimit: it answers 403 where readers should get
429 with Retry-After, its system check refuses the local-memory cache, and the voter key is
only known after the signed cookie has been checked.
"""

import hashlib
import math
import os
import threading
import time

from shipwith.core.counters import counters
from shipwith.core.rates import Rate

BLOCK_SHARE = 100  # a block is at most this fraction of a limit…
BLOCK_MOST = 50  # …and at most this many hits
ROLLING_SLICES = 24  # a rolling day is counted in hours


def limit_exceeded(key: str, rate: Rate) -> int:
    """Count one hit on `key`; return the seconds to wait when over the rate, else 0."""
    return limits_waits({key: rate})[key]


def limits_waits(rates: dict[str, Rate]) -> dict[str, int]:
    """Count one hit on each key at once; return each key's wait in seconds (0 when allowed)."""
    now = time.time()
    windows = {}
    for key, (count, period) in rates.items():
        window = int(now // period)
        windows[key] = (_window_key(key, window), count, (window + 1) * period)
    numbers = _blocks.take({name: (count, end) for name, count, end in windows.values()}, now)
    return {
        key: int(end - now) + 1 if numbers[name] > count else 0
        for key, (name, count, end) in windows.items()
    }


def rolling_limit_exceeded(key: str, rate: Rate, slices: int = ROLLING_SLICES) -> int:
    """Count one hit on `key` against the last period, whenever it starts; return the seconds
    to wait when that would pass the rate (the hit is then not counted), else 0.

    Any stretch of one period lies within the current slice and the `slices` before it, so it
    never holds more than `count` allowed hits; the price is that a hit may wait up to one
    slice longer than strictly needed. A refused hit is taken back, so retrying does not push
    the wait out. Concurrent hits each get their own count from the atomic increment: no two
    processes can both take the last place.
    """
    count, period = rate
    width = max(1, period // slices)
    now = time.time()
    current = int(now // width)
    names = [_window_key(key, current - back) for back in range(slices + 1)]  # newest first
    store = counters()
    # A slice is kept while it is within the span: until its end plus one period.
    total = store.add({names[0]: (1, (current + 1) * width + period)}, now)[names[0]]
    earlier = store.read(names[1:])
    hits = [total, *(earlier.get(name, 0) for name in names[1:])]
    if sum(hits) <= count:
        return 0
    store.take_back(names[0])
    hits[0] -= 1
    # Wait until enough of the oldest slices have left the span for one more hit to fit.
    remaining = sum(hits)
    for back in range(slices, -1, -1):
        remaining -= hits[back]
        if remaining < count:
            leaves = (current - back + slices + 1) * width
            return max(1, math.ceil(leaves - now))
    return period  # unreachable while count >= 1: dropping every slice leaves 0


def _window_key(key: str, window: int) -> str:
    if len(key) > 200:  # client-supplied parts stay within the column; a digest keeps them apart
        key = key[:100] + ":" + hashlib.sha256(key.encode()).hexdigest()
    return f"{key}@{window}"


def _block_size(count: int) -> int:
    return max(1, min(count // BLOCK_SHARE, BLOCK_MOST))


class _Blocks:
    """This process's claimed hit numbers, per window: ranges [next number, last number, window
    end], oldest first. Threads that claim at the same time each add their block's rest, so no
    claimed number is dropped."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.held: dict[tuple[str, int], list[list[int]]] = {}

    def take(self, windows: dict[str, tuple[int, int]], now: float) -> dict[str, int]:
        """The number of this hit on each window, claiming a new block where none is left."""
        with self.lock:
            if self.pid != os.getpid():  # a forked child must not reuse its parent's numbers
                self.pid, self.held = os.getpid(), {}
            numbers, claims = {}, {}
            for name, (count, end) in windows.items():
                number = self._next(name, count)
                if number is None:
                    claims[name] = (_block_size(count), end)
                else:
                    numbers[name] = number
        if claims:  # outside the lock: the round trip must not hold up the other threads
            totals = counters().add(claims, now)
            with self.lock:
                for name, (size, end) in claims.items():
                    first = totals[name] - size + 1
                    numbers[name] = first
                    if size > 1:
                        rests = self.held.setdefault((name, windows[name][0]), [])
                        rests.append([first + 1, totals[name], end])
                if len(self.held) > 1000:
                    self.held = {k: v for k, v in self.held.items() if v and v[-1][2] > now}
        return numbers

    def _next(self, name: str, count: int) -> int | None:
        """The lowest number this process holds on the window (under the lock), or None."""
        ranges = self.held.get((name, count))
        while ranges:
            block = ranges[0]
            if block[0] <= block[1]:
                block[0] += 1
                return block[0] - 1
            ranges.pop(0)
        return None

    def forget(self) -> None:
        with self.lock:
            self.held = {}


_blocks = _Blocks()
