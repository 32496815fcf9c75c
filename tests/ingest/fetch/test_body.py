"""The body: the content type asked for, and a size cap that holds however it streams in."""

import gzip
import json
import time
import tracemalloc
import zlib

import pytest

from shipwith.ingest.fetch import Fetcher, FetchError
from tests.ingest.server import Reply, fixture

JSON = "application/json; charset=utf-8"


def test_wrong_content_type_is_refused(server, fetcher):
    url = server.serve("/models", b"<html>login</html>", content_type="text/html")
    with pytest.raises(FetchError, match=r"content type 'text/html' is not json"):
        fetcher.get(url, expect="json")


def test_huge_body_is_cut_off_while_streaming(server, fetcher, settings):
    # 40 MB without Content-Length: the cap is enforced by counting, never by reading it all.
    url = server.route(
        "/huge.json", Reply(content_type=JSON, stream_bytes=40 * 1024 * 1024, chunked=True)
    )
    cap = settings.SHIPWITH_INGEST_MAX_BYTES
    peak = peak_memory_of_a_refused_fetch(fetcher, url, cap)
    assert cap < 40 * 1024 * 1024
    assert peak < 1.25 * cap  # the body held up to the cap (16 MB), never the 40 MB


def peak_memory_of_a_refused_fetch(fetcher, url: str, cap: int) -> int:
    """The most memory Python held while the fetch of `url` was cut off at `cap`."""
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match=f"over {cap:,} bytes; cut off"):
            fetcher.get(url, expect="json")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_declared_huge_body_is_refused_before_reading(server, validators):
    url = server.route("/huge.json", Reply(content_type=JSON, stream_bytes=40 * 1024 * 1024))
    with Fetcher(validators=validators, allow_private=True, host_delay=0, max_bytes=1 << 20) as f:
        with pytest.raises(FetchError, match=r"body of 41,943,040 bytes is over 1,048,576"):
            f.get(url, expect="json")


def test_fixture_body_is_served_byte_for_byte(server, fetcher):
    body = fixture("openrouter_models.json")
    url = server.serve("/api/v1/models", body)
    assert fetcher.get(url, expect="json").body == body


def test_compressed_body_is_inflated(server, fetcher):
    body = json.dumps({"data": ["model"] * 1000}).encode()
    url = server.serve("/m.json", gzip.compress(body), headers={"Content-Encoding": "gzip"})
    assert fetcher.get(url, expect="json").body == body
    assert server.seen("/m.json")[0].headers["Accept-Encoding"] == "gzip, deflate"


def test_a_gzip_bomb_is_cut_off_at_the_cap_without_inflating_it_whole(server, fetcher, settings):
    # 40 MB of zeros compress to about 40 KB: the size on the wire says nothing.
    bomb = gzip.compress(b"\0" * (40 * 1024 * 1024))
    url = server.serve("/m.json", bomb, headers={"Content-Encoding": "gzip"})
    cap = settings.SHIPWITH_INGEST_MAX_BYTES
    peak = peak_memory_of_a_refused_fetch(fetcher, url, cap)
    assert len(bomb) < 100 * 1024 and peak < 1.25 * cap


def empty_blocks(body: bytes, count: int) -> bytes:
    """A zlib stream of `body` padded with `count` empty stored blocks: 5 bytes each on the
    wire, nothing once inflated."""
    deflate = zlib.compressobj()
    stream = deflate.compress(body) + deflate.flush(zlib.Z_SYNC_FLUSH)
    return stream + b"\x00\x00\x00\xff\xff" * count + deflate.flush()


BOMB = gzip.compress(b"\0" * (40 << 20))  # 40 KB that inflate to 40 MB


@pytest.mark.parametrize(
    ("encoding", "body", "padding"),
    [
        ("gzip", gzip.compress(b"[]"), 8 << 20),  # a tiny member, then 8 MB of "x"
        ("deflate", zlib.compress(b"[]"), 8 << 20),
        ("gzip", gzip.compress(b"[]") + BOMB * 32, 0),  # then 32 members of 40 MB each
        ("deflate", empty_blocks(b"[]", 2 << 20), 0),  # 10 MB inflating to nothing
    ],
    ids=["gzip-padding", "deflate-padding", "gzip-bombs-after", "deflate-empty-blocks"],
)
def test_a_compressed_body_is_capped_as_a_whole(server, validators, encoding, body, padding):
    # Whatever the compressed stream inflates to, the bytes after its end and the bytes
    # received count against the cap too: none of them streams in for free.
    cap = 1 << 20
    url = server.route(
        "/m.json",
        Reply(
            body=body,
            stream_bytes=padding,
            chunked=True,  # no Content-Length to refuse it by
            content_type=JSON,
            headers={"Content-Encoding": encoding},
        ),
    )
    with Fetcher(validators=validators, allow_private=True, host_delay=0, max_bytes=cap) as f:
        started = time.monotonic()
        peak = peak_memory_of_a_refused_fetch(f, url, cap)
        elapsed = time.monotonic() - started
    assert elapsed < 3 and peak < 1.25 * cap


def test_an_encoding_we_did_not_ask_for_is_refused(server, fetcher):
    url = server.serve("/m.json", b"\x1f\x8b", headers={"Content-Encoding": "br"})
    with pytest.raises(FetchError, match="unsupported content encoding 'br'"):
        fetcher.get(url, expect="json")
