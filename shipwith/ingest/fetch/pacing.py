"""Politeness: a delay between requests to one host, kept within this process and, through
the shared cache, between processes; a robots.txt Crawl-delay lengthens it for its host."""

import logging
import math
import time

from django.core.cache import caches

from shipwith.ingest.fetch.errors import FetchError

logger = logging.getLogger(__name__)

PACE_POLL = 0.1  # seconds between looks at another process's pace key


class Pacer:
    """The requests of one Fetcher, spaced per host."""

    def __init__(self, *, host_delay: float, total_timeout: float) -> None:
        self.host_delay = host_delay
        self.total_timeout = total_timeout
        self.crawl_delays: dict[str, float] = {}  # by host, from robots.txt (capped)
        self._last_request: dict[str, float] = {}

    def wait(self, url: str, host: str, deadline: float) -> None:
        """Wait until `host` may be asked again, by this Fetcher and by other processes.

        Other processes (workers, a CLI run) see a short-lived key per host in the shared
        cache (Redis when configured): `add` succeeds for one of them per delay.
        """
        delay = max(self.host_delay, self.crawl_delays.get(host, 0.0))
        if delay <= 0:
            return
        if last := self._last_request.get(host):
            wait = last + delay - time.monotonic()
            if time.monotonic() + wait > deadline:
                raise FetchError(
                    url,
                    f"waiting {wait:.1f} s to ask {host} again would pass the "
                    f"{self.total_timeout:g} s limit",
                )
            if wait > 0:
                time.sleep(wait)
        key = f"ingest:pace:{host}"
        # Whole seconds: Redis keeps a key no shorter than that (a 0 s key would not pace).
        while not self._shared_add(key, math.ceil(delay)):
            if time.monotonic() + PACE_POLL > deadline:
                raise FetchError(url, f"{host} is busy with other fetches; gave up waiting")
            time.sleep(PACE_POLL)
        self._last_request[host] = time.monotonic()

    @staticmethod
    def _shared_add(key: str, seconds: int) -> bool:
        try:
            return caches["default"].add(key, 1, timeout=seconds)
        except Exception:  # the shared cache is down: pace within this process only
            logger.warning("ingest: shared cache unavailable for host pacing", exc_info=True)
            return True
