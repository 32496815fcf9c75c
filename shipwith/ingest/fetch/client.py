"""The Fetcher: one fetch from its first check to its body, every rule applied in turn.

`Fetcher.get` checks the URL and every address its host resolves to (guard.py), waits its
turn for the host (pacing.py), asks robots.txt for page fetches (robots.py), connects to the
checked address within one total deadline (deadline.py), reads the body under a size cap
(body.py), follows redirects by hand (each hop checked again, credentials dropped on a
change of origin, loops and long chains refused), retries what is worth it (honouring
Retry-After), and makes the GET conditional with the validators stored for the URL.
"""

import ipaddress
import ssl
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

from shipwith.core.http import retry_after_seconds
from shipwith.ingest.fetch import deadline as fetch_deadline
from shipwith.ingest.fetch.body import ACCEPT, Expect, Fetched, Response, body_read, type_fits
from shipwith.ingest.fetch.errors import FetchError
from shipwith.ingest.fetch.guard import (
    Hop,
    IPAddress,
    address_refusal,
    addresses_check,
    addresses_lookup,
    resolve,
    same_origin,
    url_check,
)
from shipwith.ingest.fetch.pacing import Pacer
from shipwith.ingest.fetch.robots import ROBOTS_TOKEN, Robots

REDIRECTS = {301, 302, 303, 307, 308}
CREDENTIALS = frozenset({"authorization", "cookie", "proxy-authorization"})
RETRIED = {429, 502, 503, 504}


class ValidatorStore(Protocol):
    """Where the ETag / Last-Modified of each URL's last good fetch are kept."""

    def get(self, url: str) -> tuple[str, str] | None: ...

    def put(self, url: str, etag: str, last_modified: str) -> None: ...


class MemoryValidators:
    """Validators kept in a dict: for one process (tests, a one-off run)."""

    def __init__(self) -> None:
        self.saved: dict[str, tuple[str, str]] = {}

    def get(self, url: str) -> tuple[str, str] | None:
        return self.saved.get(url)

    def put(self, url: str, etag: str, last_modified: str) -> None:
        self.saved[url] = (etag, last_modified)


def _given(value, setting):
    return setting if value is None else value


def user_agent() -> str:
    try:
        release = version("shipwith")
    except PackageNotFoundError:
        release = "0"
    return f"shipwith/{release} (+{settings.SHIPWITH_BASE_URL})"


class Fetcher:
    """Fetch URLs for ingest; one instance per run (it keeps robots.txt and host timings)."""

    def __init__(
        self,
        *,
        validators: ValidatorStore | None = None,
        allow_private: bool | None = None,
        allowed_ports: Collection[int] | None = None,
        max_bytes: int | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        total_timeout: float | None = None,
        host_delay: float | None = None,
        retries: int | None = None,
        retry_after_max: float | None = None,
        max_redirects: int | None = None,
        resolver: Callable[[str, int], list[str]] = resolve,
        guard: Callable[[IPAddress], str | None] = address_refusal,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        # Each limit not given is the setting's (its default lives in settings.py only).
        self.validators = validators if validators is not None else MemoryValidators()
        self.allow_private = _given(allow_private, settings.SHIPWITH_INGEST_ALLOW_PRIVATE)
        self.allowed_ports = _given(allowed_ports, settings.SHIPWITH_INGEST_ALLOWED_PORTS)
        self.max_bytes = _given(max_bytes, settings.SHIPWITH_INGEST_MAX_BYTES)
        self.total_timeout = _given(total_timeout, settings.SHIPWITH_INGEST_TOTAL_TIMEOUT)
        self.host_delay = _given(host_delay, settings.SHIPWITH_INGEST_HOST_DELAY)
        self.retries = _given(retries, settings.SHIPWITH_INGEST_RETRIES)
        self.retry_after_max = _given(retry_after_max, settings.SHIPWITH_INGEST_RETRY_AFTER_MAX)
        self.max_redirects = _given(max_redirects, settings.SHIPWITH_INGEST_MAX_REDIRECTS)
        self.resolver = resolver
        self.guard = guard
        self.user_agent = user_agent()
        self.connect_timeout = _given(connect_timeout, settings.SHIPWITH_INGEST_CONNECT_TIMEOUT)
        read = _given(read_timeout, settings.SHIPWITH_INGEST_READ_TIMEOUT)
        self._timeout = httpx.Timeout(read, connect=self.connect_timeout)
        # Requests go to the checked IP, so pooled connections are keyed by IP, not host: no
        # keep-alive, so one host's TLS session is never reused for another host on that IP.
        # trust_env=False: a proxy from the environment would connect somewhere unchecked.
        self._client = httpx.Client(
            transport=fetch_deadline.transport(verify=verify),
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"Accept-Encoding": "gzip, deflate"},  # what body.Decoder can bound
        )
        self._pacer = Pacer(host_delay=self.host_delay, total_timeout=self.total_timeout)
        self._robots = Robots(fetch=self._fetch, pacer=self._pacer)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        expect: Expect,
        conditional: bool = True,
        robots: bool = False,
        headers: dict[str, str] | None = None,
        validators: ValidatorStore | None = None,
    ) -> Fetched:
        """Fetch `url`; raise FetchError unless it answers 2xx (or 304 to a conditional GET).

        `validators` overrides the Fetcher's store for this one request (e.g. one tool's
        source row), so one Fetcher, with its host pacing and robots.txt cache, serves a run.
        """
        store = self.validators if validators is None else validators
        deadline = time.monotonic() + self.total_timeout
        if robots and not self._robots.allow(url, deadline):
            raise FetchError(url, f"robots.txt disallows {ROBOTS_TOKEN}")
        request_headers = {"Accept": ACCEPT[expect], **(headers or {})}
        saved = store.get(url) if conditional else None
        if saved:
            etag, last_modified = saved
            if etag:
                request_headers["If-None-Match"] = etag
            if last_modified:
                request_headers["If-Modified-Since"] = last_modified
        fetched = self._fetch(
            url, request_headers, deadline, max_bytes=self.max_bytes, robots=robots
        )
        if fetched.status == 304:
            if not saved:
                raise FetchError(url, "HTTP 304 to a request that was not conditional", status=304)
            return fetched
        if not 200 <= fetched.status < 300:
            raise FetchError(url, f"HTTP {fetched.status}", status=fetched.status)
        if not type_fits(fetched.content_type, expect):
            raise FetchError(
                url, f"content type {fetched.content_type!r} is not {expect} as expected"
            )
        if conditional and (fetched.etag or fetched.last_modified):
            store.put(url, fetched.etag, fetched.last_modified)
        return fetched

    def _fetch(
        self,
        url: str,
        headers: dict[str, str],
        deadline: float,
        *,
        max_bytes: int,
        robots: bool = False,
        truncate: bool = False,
    ) -> Fetched:
        """Follow redirects by hand, checking each hop before connecting; retry what is worth it.

        A body over `max_bytes` is refused, or with `truncate` cut there and kept.
        """
        seen = [url]
        current = url
        while True:
            response_status, response = self._request_with_retries(
                current, headers, deadline, max_bytes=max_bytes, truncate=truncate
            )
            if response_status not in REDIRECTS:
                return self._fetched(url, current, response)
            location = response.headers.get("location")
            if not location:
                raise FetchError(current, f"HTTP {response_status} without a Location header")
            target = urljoin(current, location.strip())
            if target in seen:
                chain = " → ".join([*seen, target])
                raise FetchError(url, f"redirect loop: {chain}")
            if len(seen) > self.max_redirects:
                raise FetchError(url, f"more than {self.max_redirects} redirects")
            if robots and not self._robots.allow(target, deadline):
                raise FetchError(url, f"redirected to {target}, which robots.txt disallows")
            if not same_origin(url, target):
                # A token is for the origin it was given for, never for where that redirects.
                headers = {k: v for k, v in headers.items() if k.lower() not in CREDENTIALS}
            seen.append(target)
            current = target

    def _request_with_retries(
        self,
        url: str,
        headers: dict[str, str],
        deadline: float,
        *,
        max_bytes: int,
        truncate: bool = False,
    ) -> tuple[int, Response]:
        for attempt in range(self.retries + 1):
            response = self._request(url, headers, deadline, max_bytes=max_bytes, truncate=truncate)
            if response.status not in RETRIED or attempt == self.retries:
                if response.status in RETRIED:
                    raise FetchError(
                        url,
                        f"HTTP {response.status} after {self.retries + 1} tries",
                        status=response.status,
                    )
                return response.status, response
            wait = retry_after_seconds(response.headers)
            if wait is not None and wait > self.retry_after_max:
                raise FetchError(
                    url,
                    f"HTTP {response.status} asks to retry after {wait:.0f} s, more than the "
                    f"{self.retry_after_max:.0f} s we wait",
                    status=response.status,
                )
            if wait is None:
                wait = min(2.0**attempt, self.retry_after_max)
            if time.monotonic() + wait > deadline:
                raise FetchError(
                    url,
                    f"HTTP {response.status}; retrying after {wait:.0f} s would pass the "
                    f"{self.total_timeout:.0f} s limit",
                    status=response.status,
                )
            time.sleep(wait)
        raise AssertionError("unreachable")

    def _check(self, url: str, deadline: float) -> Hop:
        """Refuse what ingest must not fetch, before any connection; return the address to use."""
        host, port = url_check(url, self.allowed_ports)
        addresses = self._resolve(url, host, port, deadline)
        if not addresses:
            raise FetchError(url, f"cannot resolve {host}", unreachable=True)
        if not self.allow_private:
            addresses_check(url, host, addresses, self.guard)
        return Hop(url=url, host=host, port=port, addresses=addresses)

    def _resolve(self, url: str, host: str, port: int, deadline: float) -> list[str]:
        """The resolver's answer within the connect timeout and the deadline."""
        left = max(0.0, deadline - time.monotonic())
        try:
            return addresses_lookup(
                url, host, port, resolver=self.resolver, timeout=min(self.connect_timeout, left)
            )
        except TimeoutError:
            reason = f"resolving {host} timed out after {self.connect_timeout:g} s"
            raise self._failure(url, deadline, reason, unreachable=True) from None

    def _request(
        self,
        url: str,
        headers: dict[str, str],
        deadline: float,
        *,
        max_bytes: int,
        truncate: bool = False,
    ) -> Response:
        hop = self._check(url, deadline)
        self._pacer.wait(url, hop.host, deadline)
        response = self._send(url, hop, headers, deadline)
        try:
            if response.status_code in REDIRECTS or response.status_code in RETRIED:
                return Response.of(response, b"")
            if response.status_code == 304:
                return Response.of(response, b"")
            try:
                body = body_read(url, response, max_bytes=max_bytes, truncate=truncate)
            except httpx.TimeoutException:
                raise self._failure(url, deadline, "timed out reading the body") from None
            except httpx.HTTPError as exc:
                reason = f"reading the body failed: {exc}"
                raise self._failure(url, deadline, reason) from None
            return Response.of(response, body)
        finally:
            response.close()

    def _send(self, url: str, hop: Hop, headers: dict[str, str], deadline: float) -> httpx.Response:
        """Send to the checked addresses in turn (an IPv6 address may be unreachable here),
        all of them within the deadline, which the connection then keeps while its body is
        read."""
        host_header = httpx.URL(url).netloc.decode("ascii")
        https = urlsplit(url).scheme == "https"
        for index, address in enumerate(hop.addresses):
            ip = ipaddress.ip_address(address.split("%")[0])
            request = self._client.build_request(
                "GET",
                httpx.URL(url).copy_with(host=str(ip)),
                headers={**headers, "Host": host_header, "User-Agent": self.user_agent},
                extensions={"sni_hostname": hop.host} if https else {},
            )
            try:
                with fetch_deadline.until(deadline):
                    return self._client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if index + 1 < len(hop.addresses) and time.monotonic() < deadline:
                    continue
                reason = f"connection failed: {exc}"
                raise self._failure(url, deadline, reason, unreachable=True) from None
            except httpx.TimeoutException as exc:
                reason = f"timed out ({type(exc).__name__})"
                raise self._failure(url, deadline, reason) from None
            except httpx.HTTPError as exc:
                raise self._failure(url, deadline, f"connection failed: {exc}") from None
        raise AssertionError("a hop has at least one address")

    def _failure(
        self, url: str, deadline: float, reason: str, *, unreachable: bool = False
    ) -> FetchError:
        """The error of a step that failed: the total timeout's when that has run out (each
        step is cut short by it, see deadline.py), else the step's own `reason`."""
        if time.monotonic() >= deadline:
            reason = f"took longer than {self.total_timeout:g} s (the total timeout)"
        return FetchError(url, reason, unreachable=unreachable)

    def _fetched(self, url: str, final_url: str, response: Response) -> Fetched:
        return Fetched(
            url=url,
            final_url=final_url,
            status=response.status,
            content_type=response.content_type,
            charset=response.charset,
            body=response.body,
            fetched_at=datetime.now(UTC),
            not_modified=response.status == 304,
            etag=response.headers.get("etag", ""),
            last_modified=response.headers.get("last-modified", ""),
        )
