"""robots.txt for page fetches (RFC 9309): read once per origin and Fetcher, up to its first
500 KiB; a missing one (4xx) allows all, an unreachable one (5xx) allows none; its
Crawl-delay spaces the requests to its host (see pacing.py), up to MAX_CRAWL_DELAY."""

from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

import httpx
from protego import Protego

from shipwith.ingest.fetch.body import ACCEPT, Fetched
from shipwith.ingest.fetch.errors import FetchError
from shipwith.ingest.fetch.pacing import Pacer

ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309 lets a crawler stop reading robots.txt at 500 KiB
ROBOTS_TOKEN = "shipwith"
MAX_CRAWL_DELAY = 30.0  # seconds: a robots.txt asking for more is honoured only this far


class Robots:
    """The robots.txt rules of the origins one Fetcher has asked, fetched through `fetch`
    (the Fetcher's own: checked, paced, bounded)."""

    def __init__(self, *, fetch: Callable[..., Fetched], pacer: Pacer) -> None:
        self._fetch = fetch
        self._pacer = pacer
        self._rules: dict[str, Protego | bool] = {}  # by origin: rules, or allow/deny all

    def allow(self, url: str, deadline: float) -> bool:
        """Whether robots.txt lets us fetch `url`."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._rules:
            robots_url = f"{origin}/robots.txt"
            headers = {"Accept": ACCEPT["text"]}
            try:
                fetched = self._fetch(
                    robots_url, headers, deadline, max_bytes=ROBOTS_MAX_BYTES, truncate=True
                )
            except FetchError as exc:
                if "refused before connecting" in exc.reason:
                    raise FetchError(url, exc.reason) from None
                self._rules[origin] = False
            else:
                if 200 <= fetched.status < 300:
                    rules = Protego.parse(robots_text(fetched))
                    self._rules[origin] = rules
                    delay = min(float(rules.crawl_delay(ROBOTS_TOKEN) or 0), MAX_CRAWL_DELAY)
                    self._pacer.crawl_delays[httpx.URL(url).raw_host.decode("ascii")] = delay
                else:
                    self._rules[origin] = 400 <= fetched.status < 500
        rules = self._rules[origin]
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(url, ROBOTS_TOKEN)


def robots_text(fetched: Fetched) -> str:
    """The robots.txt up to the limit; a body that fills it was cut, and the line the cut
    went through is dropped ("Allow: /private/b" of "Allow: /private/blog-drafts/" is no rule)."""
    body = fetched.body
    if len(body) >= ROBOTS_MAX_BYTES:
        body = body[: body.rfind(b"\n") + 1]
    return replace(fetched, body=body).text()
