"""The total timeout bounds the whole fetch, whichever part of it the other side drags out;
the read timeout, a stall."""

import socket
import threading
import time
from contextlib import contextmanager

import pytest

from shipwith.ingest.fetch import Fetcher, FetchError
from tests.ingest.server import Reply

JSON = "application/json; charset=utf-8"
TOTAL = 3.0
SLACK = 1.5  # seconds past the total a failing fetch may take to report


@pytest.fixture
def patient(validators):
    """A Fetcher whose per-step limits are far above its total: only the total can stop it."""

    def make(**kwargs) -> Fetcher:
        limits = {
            "host_delay": 0,
            "connect_timeout": 20,
            "read_timeout": 20,
            "total_timeout": TOTAL,
        }
        return Fetcher(validators=validators, allow_private=True, **(limits | kwargs))

    return make


def fails_within_the_total(fetcher: Fetcher, url: str) -> None:
    started = time.monotonic()
    with fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(url, expect="json")
    elapsed = time.monotonic() - started
    assert str(caught.value) == f"{url}: took longer than {TOTAL:g} s (the total timeout)"
    assert TOTAL - 0.1 < elapsed < TOTAL + SLACK


def test_a_server_that_drips_its_status_line_and_headers_is_cut_off(server, patient):
    # A byte every 0.3 s keeps any per-read timeout happy: the head alone would take 40 s.
    url = server.route("/m.json", Reply(body=b"[]", content_type=JSON, drip_head=0.3))
    fails_within_the_total(patient(), url)


@contextmanager
def hanging_listener():
    """An address whose connects hang: a listener that never accepts, its queue full."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    filler = socket.create_connection(listener.getsockname())  # the one place in its queue
    try:
        yield listener.getsockname()[1]
    finally:
        filler.close()
        listener.close()


def test_every_address_tried_shares_the_total(patient):
    # Four addresses that hang: four connect timeouts of 2 s would be 8 s.
    with hanging_listener() as port:
        fetcher = patient(connect_timeout=2, resolver=lambda host, port: ["127.0.0.1"] * 4)
        fails_within_the_total(fetcher, f"http://tools.test:{port}/m.json")


def test_a_tls_handshake_that_never_answers_is_cut_off(patient):
    # The connection is accepted (by the kernel) but the ClientHello never gets an answer.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    try:
        fails_within_the_total(patient(), f"https://127.0.0.1:{silent.getsockname()[1]}/m.json")
    finally:
        silent.close()


def test_a_dns_lookup_that_never_answers_is_cut_off(server, patient):
    answered = threading.Event()

    def resolver(host, port):
        answered.wait(30)
        return [server.host]

    try:
        fails_within_the_total(
            patient(resolver=resolver), f"http://deadline.hung.test:{server.port}/m.json"
        )
    finally:
        answered.set()


def test_a_slow_answer_that_ends_within_the_total_is_read_whole(server, patient):
    url = server.route("/m.json", Reply(body=b"[1]", content_type=JSON, drip_head=0.003))
    with patient() as fetcher:
        assert fetcher.get(url, expect="json").body == b"[1]"


def test_a_host_delay_longer_than_the_time_left_fails_at_once(server, patient):
    url = server.route("/m.json", Reply(body=b"[]", content_type=JSON))
    with patient(host_delay=10) as fetcher:
        fetcher.get(url, expect="json")
        started = time.monotonic()
        with pytest.raises(
            FetchError, match=r"waiting 10\.0 s to ask 127\.0\.0\.1 again would pass"
        ):
            fetcher.get(url, expect="json", conditional=False)
    assert time.monotonic() - started < 1  # no 10 s sleep that the total could not allow


def test_stalled_server_times_out(server, validators):
    url = server.route("/slow", Reply(body=b"[]", content_type=JSON, stall=5))
    with Fetcher(validators=validators, allow_private=True, host_delay=0, read_timeout=0.5) as f:
        started = time.monotonic()
        with pytest.raises(FetchError, match="timed out"):
            f.get(url, expect="json")
    assert time.monotonic() - started < 4  # the server would answer after 5 s


def test_body_that_trickles_past_the_total_limit_is_dropped(server, validators):
    url = server.route("/trickle", Reply(body=b"[]", content_type=JSON, stall_body=2))
    with Fetcher(validators=validators, allow_private=True, host_delay=0, read_timeout=0.5) as f:
        with pytest.raises(FetchError, match="timed out reading the body"):
            f.get(url, expect="json")


def test_a_trickle_that_never_stalls_still_ends_at_the_total_limit(server, validators):
    # A byte every read-timeout would keep a per-read limit happy for ever.
    url = server.route(
        "/drip", Reply(content_type=JSON, stream_bytes=1024 * 100, chunked=True, drip=0.2)
    )
    with Fetcher(
        validators=validators, allow_private=True, host_delay=0, read_timeout=1, total_timeout=1
    ) as f:
        started = time.monotonic()
        with pytest.raises(FetchError, match="took longer than 1 s"):
            f.get(url, expect="json")
    assert time.monotonic() - started < 4  # far less than the 20 s the drip would take
