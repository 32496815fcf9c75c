"""A loopback HTTP server that serves ingest fixtures and misbehaves on cue.

Routes answer with fixture bytes (ETag / Last-Modified aware: a matching If-None-Match or
If-Modified-Since gets 304), or stall, redirect, send 429 with Retry-After, or stream a body of
any size without holding it in memory. The server counts the TCP connections it accepted and
records every request, so a test can prove that a refused URL never reached it.

    with FixtureServer() as server:
        server.serve("/api/v1/models", fixture("openrouter_models.json"), etag='"v1"')
        url = server.url("/api/v1/models")
"""

import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

CONTENT_TYPES = {
    ".json": "application/json; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Reply:
    """One answer of a route."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None  # an HTTP date, e.g. "Mon, 30 Nov 2026 10:00:00 GMT"
    stall: float = 0.0  # seconds to wait before answering at all
    stall_body: float = 0.0  # seconds to wait after the headers, before the body
    stream_bytes: int = 0  # after `body`, send this many filler bytes ("x"), in chunks
    drip: float = 0.0  # with stream_bytes: seconds between 1 KB pieces (a slow trickle)
    drip_head: float = 0.0  # seconds between the bytes of the status line and headers
    chunked: bool = False  # no Content-Length: the client learns the size only by reading
    redirect: str | None = None  # a Location (path or absolute URL), sent with `status` 302


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    at: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, family):
        self.address_family = family
        self.connections = 0
        super().__init__(address, handler)

    def verify_request(self, request, client_address) -> bool:
        self.connections += 1
        return True


class FixtureServer:
    """Serve `Reply`s by path; a route given several replies answers them in turn (last repeats)."""

    def __init__(self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._server = _Server((host, 0), self._handler(), family)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- set up -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def connections(self) -> int:
        return self._server.connections

    def url(self, path: str) -> str:
        return self.origin + path

    def route(self, path: str, *replies: Reply) -> str:
        with self._lock:
            self.routes[path] = list(replies)
        return self.url(path)

    def serve(self, path: str, body: bytes, *, content_type: str | None = None, **kw) -> str:
        """Serve `body` at `path`; the content type follows the path's suffix unless given."""
        if content_type is None:
            content_type = CONTENT_TYPES.get(
                Path(path.split("?")[0]).suffix, CONTENT_TYPES[".json"]
            )
        return self.route(path, Reply(body=body, content_type=content_type, **kw))

    def seen(self, path: str) -> list[Seen]:
        return [request for request in self.requests if request.path == path]

    def start(self) -> "FixtureServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FixtureServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- answer ---------------------------------------------------------------------------

    def _next(self, path: str) -> Reply | None:
        with self._lock:
            replies = self.routes.get(path)
            if replies is None:
                replies = self.routes.get(path.split("?")[0])
            if not replies:
                return None
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                with server._lock:
                    server.requests.append(
                        Seen("GET", self.path, dict(self.headers.items()), time.monotonic())
                    )
                reply = server._next(self.path)
                if reply is None:
                    return self._plain(404, b"not found")
                if reply.stall:
                    time.sleep(reply.stall)
                if reply.redirect is not None:
                    status = reply.status if reply.status in (301, 302, 303, 307, 308) else 302
                    return self._plain(status, b"", {"Location": reply.redirect, **reply.headers})
                if reply.status == 200 and self._not_modified(reply):
                    return self._plain(304, b"", self._validators(reply))
                headers = {"Content-Type": reply.content_type, **self._validators(reply)}
                headers.update(reply.headers)
                try:
                    if reply.stream_bytes:
                        return self._stream(reply, headers)
                    self._head(reply, headers, len(reply.body))
                    self.wfile.flush()
                    if reply.stall_body:
                        time.sleep(reply.stall_body)
                    self._body(reply)
                    if reply.chunked:
                        self._chunk(b"")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeouts, size caps)

            def _not_modified(self, reply: Reply) -> bool:
                if reply.etag and (match := self.headers.get("If-None-Match")):
                    return reply.etag in [tag.strip() for tag in match.split(",")]
                if reply.last_modified and (since := self.headers.get("If-Modified-Since")):
                    try:
                        return parsedate_to_datetime(reply.last_modified) <= parsedate_to_datetime(
                            since
                        )
                    except (TypeError, ValueError):
                        return False
                return False

            def _validators(self, reply: Reply) -> dict[str, str]:
                headers = {}
                if reply.etag:
                    headers["ETag"] = reply.etag
                if reply.last_modified:
                    headers["Last-Modified"] = reply.last_modified
                return headers

            def _head(self, reply: Reply, headers: dict[str, str], length: int):
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if reply.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(length))
                if not reply.drip_head:
                    return self.end_headers()
                head = b"".join(self._headers_buffer) + b"\r\n"
                self._headers_buffer = []
                for byte in head:
                    self.wfile.write(bytes((byte,)))
                    self.wfile.flush()
                    time.sleep(reply.drip_head)

            def _stream(self, reply: Reply, headers: dict[str, str]):
                self._head(reply, headers, len(reply.body) + reply.stream_bytes)
                self._body(reply)
                block = b"x" * (1024 if reply.drip else 65536)
                left = reply.stream_bytes
                while left > 0:
                    if reply.drip:
                        time.sleep(reply.drip)
                    piece = block[: min(left, len(block))]
                    if reply.chunked:
                        self._chunk(piece)
                    else:
                        self.wfile.write(piece)
                    left -= len(piece)
                if reply.chunked:
                    self._chunk(b"")

            def _body(self, reply: Reply):
                """Send `body` 64 KB at a time (no copy of a large body held at once)."""
                for start in range(0, len(reply.body), 65536):
                    piece = reply.body[start : start + 65536]
                    self._chunk(piece) if reply.chunked else self.wfile.write(piece)

            def _chunk(self, data: bytes):
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

            def _plain(self, status: int, body: bytes, headers: dict[str, str] | None = None):
                try:
                    self.send_response(status)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    if status != 304:
                        self.send_header("Content-Type", "text/plain; charset=utf-8")
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if status != 304:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def public_guard(server: FixtureServer):
    """An address guard for tests: the fixture server's own address stands in for a public
    host; every other address is judged as in production."""
    from shipwith.ingest.fetch.guard import address_refusal

    public = ipaddress.ip_address(server.host)
    return lambda ip: None if ip == public else address_refusal(ip)
