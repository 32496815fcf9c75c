"""Where a fetch may connect, decided before any connection is made.

Only http(s) URLs without credentials, on the allowed ports; the host is resolved once (DNS
lookups bounded in time and in number) and every address it resolves to is checked: no
loopback, private, link-local, multicast, reserved or unspecified address, nor one of those
embedded in an IPv6 address. The connection then goes to a checked address (see client.py),
so a DNS answer that changes between the check and the connect cannot move it.
"""

import ipaddress
import socket
import threading
from collections.abc import Callable, Collection
from concurrent.futures import Future
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from shipwith.ingest.fetch.errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")
DEFAULT_PORTS = {"http": 80, "https": 443}
LOOKUPS_MOST = 8  # DNS lookups in flight at once, per process (hung ones included)


@dataclass
class Hop:
    """One request of a fetch, with the address its host was checked at."""

    url: str
    host: str
    port: int
    addresses: list[str]  # every one checked; tried in the resolver's order


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


def url_check(url: str, allowed_ports: Collection[int]) -> tuple[str, int]:
    """Refuse a URL ingest must not fetch; return its host (IDNA, as DNS and TLS see it) and
    port."""
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
    if port not in allowed_ports:
        # Any other port of a public host (SMTP, SSH, a database) is no feed or API.
        allowed = ", ".join(str(p) for p in sorted(allowed_ports))
        raise FetchError(
            url,
            f"refused before connecting: port {port} is not allowed "
            f"(SHIPWITH_INGEST_ALLOWED_PORTS: {allowed})",
        )
    try:
        host = httpx.URL(url).raw_host.decode("ascii")  # IDNA: what DNS and TLS see
    except (httpx.InvalidURL, UnicodeError):
        raise FetchError(url, "invalid host name") from None
    return host, port


def addresses_check(
    url: str, host: str, addresses: list[str], refusal: Callable[[IPAddress], str | None]
) -> None:
    """Refuse the host unless every address it resolved to is one ingest may connect to."""
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if reason := refusal(ip):
            raise FetchError(
                url,
                f"refused before connecting: {host} is {ip}, {reason} "
                "(SHIPWITH_INGEST_ALLOW_PRIVATE=1 allows it, for tests only)",
            )


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


def addresses_lookup(
    url: str, host: str, port: int, *, resolver: Callable[[str, int], list[str]], timeout: float
) -> list[str]:
    """The resolver's answer within `timeout` (see _Lookups); TimeoutError when it has none by
    then, for the caller to report against its own limits."""
    try:
        answer = _lookups.start(resolver, host, port)
    except _TooManyLookups as exc:
        raise FetchError(url, f"not resolving {host}: {exc}", unreachable=True) from None
    try:
        return answer.result(timeout=timeout)
    except TimeoutError:  # before OSError: TimeoutError is one
        raise
    except (OSError, UnicodeError) as exc:
        raise FetchError(url, f"cannot resolve {host}: {exc}", unreachable=True) from None


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
