"""The body of a fetch: the media types each `expect` accepts, a size cap weighed while the
body streams in (compressed bodies by what they inflate to), and what a fetch hands back."""

import itertools
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import httpx

from shipwith.ingest.fetch.errors import FetchError

Expect = Literal["json", "feed", "html", "text"]

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


def type_fits(content_type: str, expect: Expect) -> bool:
    """Whether a media type is one `expect` accepts ("application/vnd.github+json" is JSON)."""
    accepted = CONTENT_TYPES[expect]
    return not content_type or content_type.startswith(accepted) or content_type.endswith(accepted)


class Decoder:
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


def body_read(url: str, response: httpx.Response, *, max_bytes: int, truncate: bool) -> bytes:
    """The response's body, inflated and weighed as it streams in: refused over `max_bytes`
    (declared or counted), or with `truncate` cut there and kept. httpx's errors (a timeout,
    a dropped connection) are the caller's to report."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes and not truncate:
        raise FetchError(url, f"body of {int(declared):,} bytes is over {max_bytes:,}")
    decoder = Decoder(url, response.headers.get("content-encoding", ""))
    body = bytearray()
    try:
        for chunk in itertools.chain(response.iter_raw(), [b""]):
            for piece in decoder.feed(chunk):
                body += piece
                if decoder.weight(len(body)) > max_bytes:
                    if truncate:
                        return bytes(body[:max_bytes])
                    raise FetchError(url, f"body is over {max_bytes:,} bytes; cut off")
    except zlib.error as exc:
        raise FetchError(url, f"compressed body is corrupt: {exc}") from None
    return bytes(body)


@dataclass
class Response:
    """One response as the Fetcher keeps it: status, headers, media type, charset, body."""

    status: int
    headers: httpx.Headers
    content_type: str
    charset: str
    body: bytes

    @classmethod
    def of(cls, response: httpx.Response, body: bytes) -> "Response":
        media, _, params = response.headers.get("content-type", "").partition(";")
        charset = ""
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "charset":
                charset = value.strip().strip('"')
        return cls(response.status_code, response.headers, media.strip().lower(), charset, body)
