"""One deadline for a whole fetch, kept by every socket operation the fetch makes.

httpx's timeouts are per operation: a connect timeout for each address tried, a read timeout
for each read. A server that drips its status line a byte every second keeps a 20 s read
timeout happy for ever, and a name with four addresses that hang gets four connect timeouts.
So the Fetcher's client talks through a network backend (httpcore's documented extension
point) that gives each connect, TLS handshake, read and write no more than the time left
before the deadline, and fails at once when none is left. A blocked read is thus interrupted
by its own socket timeout: no signal or watchdog thread is needed.

A connection keeps the deadline of the `until()` block it was opened in (the Fetcher never
reuses a connection, so that is the one fetch it serves), reading its body included.
"""

import contextlib
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

import httpcore
import httpx

_deadline: ContextVar[float | None] = ContextVar("ingest_fetch_deadline", default=None)


@contextlib.contextmanager
def until(deadline: float) -> Iterator[None]:
    """Connections opened in this block keep to `deadline` (a time.monotonic() value)."""
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def transport(*, verify) -> httpx.HTTPTransport:
    """httpx's own transport, never keeping a connection alive, whose connections keep to the
    deadline of the fetch that opens them."""
    made = httpx.HTTPTransport(
        verify=verify, trust_env=False, limits=httpx.Limits(max_keepalive_connections=0)
    )
    # httpx has no public way yet to hand its pool a network backend (encode/httpx#3749), so
    # ours goes in where httpx keeps the default; fail loudly if a new httpx moved it.
    pool = getattr(made, "_pool", None)
    if not isinstance(getattr(pool, "_network_backend", None), httpcore.NetworkBackend):
        raise RuntimeError("this httpx keeps its connection pool elsewhere: update deadline.py")
    pool._network_backend = _Backend()
    return made


def _within(deadline: float | None, timeout: float | None, error: type[Exception]):
    """The timeout of one operation: its own, or the time left if that is less."""
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the fetch's total time is up")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: float | None) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _within(self._deadline, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _within(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> "_Stream":
        # The handshake as a whole is bounded by the socket timeout (CPython's ssl module).
        timeout = _within(self._deadline, timeout, httpcore.ConnectTimeout)
        tls = self._stream.start_tls(ssl_context, server_hostname, timeout)
        return _Stream(tls, self._deadline)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> _Stream:
        deadline = _deadline.get()
        timeout = _within(deadline, timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream, deadline)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)
