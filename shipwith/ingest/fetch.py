"""The one way ingest fetches anything: polite, bounded, and safe against SSRF.

Every adapter and page read goes through `Fetcher.get`, so each request gets the same rules:
only http(s), on the allowed ports (80 and 443 unless configured); the host is resolved once
and every address checked (no loopback, private, link-local, multicast, reserved or
unspecified address) before connecting, on every redirect hop too, and the connection goes to
the checked address (a DNS answer that changes between the check and the connect cannot move
it); connect and read timeouts, and one total timeout that bounds the whole fetch (DNS,
every address tried, TLS, the status line and headers, the body, retries: see deadline.py); a
size cap counted while the body streams in; a content-type check for what the caller expects;
hand-followed redirects with a limit and loop detection; bounded retries that honour
Retry-After; a delay between requests to one host; robots.txt for page fetches (its first
500 KiB); conditional GETs with stored validators; a User-Agent naming the instance.
Credentials a caller sends (an API token) go only to the origin it asked for: a redirect to
another origin drops them.
"""

import ipaddress
import itertools
import logging
import math
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Literal, Protocol
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings
from django.core.cache import caches
from protego import Protego

from shipwith.core.http import retry_after_seconds
from shipwith.ingest import deadline as fetch_deadline

logger = logging.getLogger(__name__)

Expect = Literal["json", "feed", "html", "text"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Media types each `expect` accepts; a missing Content-Type is left to the parser to judge.
CONTENT_TYPES: dict[str, tuple[str, ...]] = {
    "json": ("application/json", "text/json", "+json"),
    "feed": (
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "+xml",
    ),
    "html": ("text/html", "application/xhtml+xml"),
    "text": ("text/",),
}
ACCEPT = {
    "json": "application/json",
    "feed": "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8",
    "html": "text/html, application/xhtml+xml;q=0.9",
    "text": "text/plain, text/*;q=0.9",
}
REDIRECTS = {301, 302, 303, 307, 308}
CREDENTIALS = frozenset({"authorization", "cookie", "proxy-authorization"})
DEFAULT_PORTS = {"http": 80, "https": 443}
RETRIED = {429, 502, 503, 504}
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309 lets a crawler stop reading robots.txt at 500 KiB
ROBOTS_TOKEN = "shipwith"
PACE_POLL = 0.1  # seconds between looks at another process's pace key
MAX_CRAWL_DELAY = 30.0  # seconds: a robots.txt asking for more is honoured only this far
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(Exception):
    """A fetch that did not give a usable body; the message names the URL and what went wrong."""

    def __init__(self, url: str, message: str, *, status: int | None = None):
        super().__init__(f"{url}: {message}")
        self.url = url
        self.reason = message
        self.status = status


@dataclass(frozen=True)
class Fetched:
    url: str  # what was asked for
    final_url: str  # where the body came from, after redirects
    status: int
    content_type: str  # the media type, lower case, without parameters
    body: bytes
    fetched_at: datetime
    not_modified: bool = False  # 304: the stored validators still hold; body is empty
    etag: str = ""
    last_modified: str = ""
    charset: str = ""

    def text(self) -> str:
        """The body decoded with the charset the server declared, else UTF-8 (bad bytes → �)."""
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            return self.body.decode("utf-8", errors="replace")


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


def address_refusal(ip: IPAddress) -> str | None:
    """Say why ingest must not connect to `ip`, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_refusal(embedded)
    for kind, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return f"a {kind} address"
    if not ip.is_global:  # shared address space (100.64/10), benchmarking nets…
        return "not a public address"
    return None


class _Decoder:
    """Turn a body's raw chunks into its pieces, inflating gzip and deflate at most 64 KB at a
    time, and weigh it against the size cap as it comes, so that no body streams in for free.

    A body weighs what it inflates to, plus the bytes after the end of the compressed stream
    (trailing garbage, further gzip members: dropped uninflated, as httpx drops them, but
    counted), or the bytes received if those are more (a stream of empty deflate blocks
    inflates to nothing). A 40 KB gzip that expands to 40 MB stops at the cap, never inflated
    whole; so do megabytes of padding after a tiny member.
    """

    def __init__(self, url: str, encoding: str) -> None:
        encoding = encoding.strip().lower()
        if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise FetchError(url, f"unsupported content encoding {encoding!r}")
        compressed = encoding not in ("", "identity")
        self._zlib = zlib.decompressobj(wbits=47) if compressed else None  # gzip or zlib header
        self.received = 0
        self.trailing = 0

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The body pieces in a raw chunk (at least one, maybe empty, so that each chunk is
        weighed); an empty chunk is the end: what zlib still holds."""
        self.received += len(chunk)
        if self._zlib is None:
            yield chunk
        elif self._zlib.eof:
            self.trailing += len(chunk)  # never handed to zlib, which would keep it all
            yield b""
        elif not chunk:
            yield self._zlib.flush()
        else:
            while chunk:
                yield self._zlib.decompress(chunk, 65536)
                if self._zlib.eof:
                    self.trailing += len(self._zlib.unused_data)
                    return
                chunk = self._zlib.unconsumed_tail

    def weight(self, decoded: int) -> int:
        return max(self.received, decoded + self.trailing)


def _type_fits(content_type: str, expect: Expect) -> bool:
    """Whether a media type is one `expect` accepts ("application/vnd.github+json" is JSON)."""
    accepted = CONTENT_TYPES[expect]
    return not content_type or content_type.startswith(accepted) or content_type.endswith(accepted)


def same_origin(url: str, other: str) -> bool:
    """Whether two URLs share scheme, host and port (a URL with a bad port shares nothing)."""

    def origin(address: str) -> tuple[str, str | None, int | None]:
        parts = urlsplit(address)
        scheme = parts.scheme.lower()
        return scheme, parts.hostname, parts.port or DEFAULT_PORTS.get(scheme)

    try:
        return origin(url) == origin(other)
    except ValueError:
        return False


def resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (IP literals come back as they are)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


LOOKUPS_MOST = 8  # DNS lookups in flight at once, per process (hung ones included)


class _TooManyLookups(Exception):
    pass


class _Lookups:
    """The DNS lookups in flight in this process, each in a daemon thread of its own.

    getaddrinfo has no timeout of its own: a DNS server that never answers would hang the run.
    A caller waits on its lookup up to its connect timeout and leaves the thread behind if it
    hangs (nothing can stop it; as a daemon it never holds up the process's exit). So that
    hung lookups cannot pile up, a name already being looked up is not looked up again (the
    next caller waits on the same answer), and past LOOKUPS_MOST lookups in flight no new one
    starts: the fetch fails at once, saying so.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[tuple, Future[list[str]]] = {}

    def start(self, resolver: Callable[[str, int], list[str]], host: str, port: int):
        key = (resolver, host, port)
        with self.lock:
            if (running := self.running.get(key)) is not None:
                return running
            if len(self.running) >= LOOKUPS_MOST:
                hosts = ", ".join(sorted({name for _, name, _ in self.running}))
                raise _TooManyLookups(
                    f"{len(self.running)} DNS lookups are still unanswered ({hosts})"
                )
            answer: Future[list[str]] = Future()
            self.running[key] = answer

        def lookup() -> None:
            try:
                answer.set_result(resolver(host, port))
            except Exception as exc:  # noqa: BLE001 - raised in the callers' threads
                answer.set_exception(exc)
            finally:
                with self.lock:
                    self.running.pop(key, None)

        threading.Thread(target=lookup, name=f"ingest resolve {host}", daemon=True).start()
        return answer


_lookups = _Lookups()


def user_agent() -> str:
    try:
        release = version("shipwith")
    except PackageNotFoundError:
        release = "0"
    return f"shipwith/{release} (+{settings.SHIPWITH_BASE_URL})"


@dataclass
class _Hop:
    """One request of a fetch, with the address its host was checked at."""

    url: str
    host: str
    port: int
    addresses: list[str]  # every one checked; tried in the resolver's order


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
        def setting(value, name):
            return getattr(settings, name) if value is None else value

        self.validators = validators if validators is not None else MemoryValidators()
        self.allow_private = setting(allow_private, "SHIPWITH_INGEST_ALLOW_PRIVATE")
        self.allowed_ports = setting(allowed_ports, "SHIPWITH_INGEST_ALLOWED_PORTS")
        self.max_bytes = setting(max_bytes, "SHIPWITH_INGEST_MAX_BYTES")
        self.total_timeout = setting(total_timeout, "SHIPWITH_INGEST_TOTAL_TIMEOUT")
        self.host_delay = setting(host_delay, "SHIPWITH_INGEST_HOST_DELAY")
        self.retries = setting(retries, "SHIPWITH_INGEST_RETRIES")
        self.retry_after_max = setting(retry_after_max, "SHIPWITH_INGEST_RETRY_AFTER_MAX")
        self.max_redirects = setting(max_redirects, "SHIPWITH_INGEST_MAX_REDIRECTS")
        self.resolver = resolver
        self.guard = guard
        self.user_agent = user_agent()
        self.connect_timeout = setting(connect_timeout, "SHIPWITH_INGEST_CONNECT_TIMEOUT")
        read = setting(read_timeout, "SHIPWITH_INGEST_READ_TIMEOUT")
        self._timeout = httpx.Timeout(read, connect=self.connect_timeout)
        # Requests go to the checked IP, so pooled connections are keyed by IP, not host: no
        # keep-alive, so one host's TLS session is never reused for another host on that IP.
        # trust_env=False: a proxy from the environment would connect somewhere unchecked.
        self._client = httpx.Client(
            transport=fetch_deadline.transport(verify=verify),
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"Accept-Encoding": "gzip, deflate"},  # what _Decoder can bound
        )
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, Protego | bool] = {}  # by origin: rules, or allow/deny all
        self._crawl_delay: dict[str, float] = {}  # by host, from robots.txt (capped)

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
        if robots and not self._robots_allow(url, deadline):
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
        if not _type_fits(fetched.content_type, expect):
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
            if robots and not self._robots_allow(target, deadline):
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
    ) -> tuple[int, "_Response"]:
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

    def _check(self, url: str, deadline: float) -> _Hop:
        """Refuse what ingest must not fetch, before any connection; return the address to use."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(url, f"only http and https URLs are fetched, not {parts.scheme!r}")
        if not parts.hostname:
            raise FetchError(url, "no host in URL")
        if parts.username or parts.password:
            raise FetchError(url, "URLs with credentials are not fetched")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(url, "invalid port") from None
        if port not in self.allowed_ports:
            # Any other port of a public host (SMTP, SSH, a database) is no feed or API.
            allowed = ", ".join(str(p) for p in sorted(self.allowed_ports))
            raise FetchError(
                url,
                f"refused before connecting: port {port} is not allowed "
                f"(SHIPWITH_INGEST_ALLOWED_PORTS: {allowed})",
            )
        try:
            host = httpx.URL(url).raw_host.decode("ascii")  # IDNA: what DNS and TLS see
        except (httpx.InvalidURL, UnicodeError):
            raise FetchError(url, "invalid host name") from None
        addresses = self._resolve(url, host, port, deadline)
        if not addresses:
            raise FetchError(url, f"cannot resolve {host}")
        if not self.allow_private:
            for address in addresses:
                ip = ipaddress.ip_address(address.split("%")[0])
                if reason := self.guard(ip):
                    raise FetchError(
                        url,
                        f"refused before connecting: {host} is {ip}, {reason} "
                        "(SHIPWITH_INGEST_ALLOW_PRIVATE=1 allows it, for tests only)",
                    )
        return _Hop(url=url, host=host, port=port, addresses=addresses)

    def _resolve(self, url: str, host: str, port: int, deadline: float) -> list[str]:
        """The resolver's answer within the connect timeout and the deadline (see _Lookups)."""
        try:
            answer = _lookups.start(self.resolver, host, port)
        except _TooManyLookups as exc:
            raise FetchError(url, f"not resolving {host}: {exc}") from None
        try:
            left = max(0.0, deadline - time.monotonic())
            return answer.result(timeout=min(self.connect_timeout, left))
        except TimeoutError:  # before OSError: TimeoutError is one
            reason = f"resolving {host} timed out after {self.connect_timeout:g} s"
            raise self._failure(url, deadline, reason) from None
        except (OSError, UnicodeError) as exc:
            raise FetchError(url, f"cannot resolve {host}: {exc}") from None

    def _pace(self, url: str, host: str, deadline: float) -> None:
        """Wait until `host` may be asked again, by this Fetcher and by other processes.

        Other processes (workers, a CLI run) see a short-lived key per host in the shared
        cache (Redis when configured): `add` succeeds for one of them per delay.
        """
        delay = max(self.host_delay, self._crawl_delay.get(host, 0.0))
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

    def _request(
        self,
        url: str,
        headers: dict[str, str],
        deadline: float,
        *,
        max_bytes: int,
        truncate: bool = False,
    ) -> "_Response":
        hop = self._check(url, deadline)
        self._pace(url, hop.host, deadline)
        response = self._send(url, hop, headers, deadline)
        try:
            if response.status_code in REDIRECTS or response.status_code in RETRIED:
                return _Response.of(response, b"")
            if response.status_code == 304:
                return _Response.of(response, b"")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes and not truncate:
                raise FetchError(url, f"body of {int(declared):,} bytes is over {max_bytes:,}")
            decoder = _Decoder(url, response.headers.get("content-encoding", ""))
            body = bytearray()
            try:
                for chunk in itertools.chain(response.iter_raw(), [b""]):
                    for piece in decoder.feed(chunk):
                        body += piece
                        if decoder.weight(len(body)) > max_bytes:
                            if truncate:
                                return _Response.of(response, bytes(body[:max_bytes]))
                            raise FetchError(url, f"body is over {max_bytes:,} bytes; cut off")
            except zlib.error as exc:
                raise FetchError(url, f"compressed body is corrupt: {exc}") from None
            except httpx.TimeoutException:
                raise self._failure(url, deadline, "timed out reading the body") from None
            except httpx.HTTPError as exc:
                reason = f"reading the body failed: {exc}"
                raise self._failure(url, deadline, reason) from None
            return _Response.of(response, bytes(body))
        finally:
            response.close()

    def _send(
        self, url: str, hop: _Hop, headers: dict[str, str], deadline: float
    ) -> httpx.Response:
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
                raise self._failure(url, deadline, f"connection failed: {exc}") from None
            except httpx.TimeoutException as exc:
                reason = f"timed out ({type(exc).__name__})"
                raise self._failure(url, deadline, reason) from None
            except httpx.HTTPError as exc:
                raise self._failure(url, deadline, f"connection failed: {exc}") from None
        raise AssertionError("a hop has at least one address")

    def _failure(self, url: str, deadline: float, reason: str) -> FetchError:
        """The error of a step that failed: the total timeout's when that has run out (each
        step is cut short by it, see deadline.py), else the step's own `reason`."""
        if time.monotonic() >= deadline:
            reason = f"took longer than {self.total_timeout:g} s (the total timeout)"
        return FetchError(url, reason)

    def _fetched(self, url: str, final_url: str, response: "_Response") -> Fetched:
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

    def _robots_allow(self, url: str, deadline: float) -> bool:
        """RFC 9309: a missing robots.txt (4xx) allows all; an unreachable one (5xx) allows none;
        only the first 500 KiB of a longer one is read."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            robots_url = f"{origin}/robots.txt"
            headers = {"Accept": ACCEPT["text"]}
            try:
                fetched = self._fetch(
                    robots_url, headers, deadline, max_bytes=ROBOTS_MAX_BYTES, truncate=True
                )
            except FetchError as exc:
                if "refused before connecting" in exc.reason:
                    raise FetchError(url, exc.reason) from None
                self._robots[origin] = False
            else:
                if 200 <= fetched.status < 300:
                    rules = Protego.parse(_robots_text(fetched))
                    self._robots[origin] = rules
                    delay = min(float(rules.crawl_delay(ROBOTS_TOKEN) or 0), MAX_CRAWL_DELAY)
                    self._crawl_delay[httpx.URL(url).raw_host.decode("ascii")] = delay
                else:
                    self._robots[origin] = 400 <= fetched.status < 500
        rules = self._robots[origin]
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(url, ROBOTS_TOKEN)


def _robots_text(fetched: Fetched) -> str:
    """The robots.txt up to the limit; a body that fills it was cut, and the line the cut
    went through is dropped ("Allow: /private/b" of "Allow: /private/blog-drafts/" is no rule)."""
    body = fetched.body
    if len(body) >= ROBOTS_MAX_BYTES:
        body = body[: body.rfind(b"\n") + 1]
    return replace(fetched, body=body).text()


@dataclass
class _Response:
    status: int
    headers: httpx.Headers
    content_type: str
    charset: str
    body: bytes

    @classmethod
    def of(cls, response: httpx.Response, body: bytes) -> "_Response":
        media, _, params = response.headers.get("content-type", "").partition(";")
        charset = ""
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "charset":
                charset = value.strip().strip('"')
        return cls(response.status_code, response.headers, media.strip().lower(), charset, body)
