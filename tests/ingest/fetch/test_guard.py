"""The SSRF guard: private and loopback addresses are refused before any connection is made,
and DNS lookups that hang cannot pile up."""

import socket
import ssl
import threading
import time

import pytest
import trustme

from shipwith.ingest.fetch import Fetcher, FetchError
from shipwith.ingest.fetch.guard import LOOKUPS_MOST
from tests.ingest.server import FixtureServer, Reply, public_guard


@pytest.fixture
def guarded(validators):
    """A Fetcher as production runs it: private addresses not allowed."""
    with Fetcher(validators=validators, allow_private=False, host_delay=0) as running:
        yield running


def test_loopback_url_is_refused_and_never_reached(server, guarded):
    url = server.serve("/models.json", b"[]")
    with pytest.raises(
        FetchError,
        match=r"refused before connecting: 127\.0\.0\.1 is 127\.0\.0\.1, a loopback address",
    ):
        guarded.get(url, expect="json")
    assert server.connections == 0 and server.requests == []


def test_localhost_name_is_resolved_then_refused(server, guarded):
    url = f"http://localhost:{server.port}/models.json"
    with pytest.raises(FetchError, match=r"localhost is (127\.0\.0\.1|::1), a loopback address"):
        guarded.get(url, expect="json")
    assert server.connections == 0


def test_loopback_in_disguise_is_refused(server, guarded):
    # 2130706433 and 0x7f.1 are 127.0.0.1 to the resolver.
    for host in ("2130706433", "0x7f.1", "127.1"):
        with pytest.raises(FetchError, match="loopback"):
            guarded.get(f"http://{host}:{server.port}/", expect="json")
    assert server.connections == 0


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("[::1]", "loopback"),
        ("[fd00::1]", "private"),
        ("[fe80::1]", "link-local"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("[::ffff:10.1.2.3]", "private"),
    ],
)
def test_private_addresses_are_refused_before_connecting(guarded, address, kind, monkeypatch):
    connects = []
    real = socket.socket.connect
    monkeypatch.setattr(
        socket.socket, "connect", lambda self, to: connects.append(to) or real(self, to)
    )
    with pytest.raises(FetchError, match=f"a {kind} address"):
        guarded.get(f"http://{address}/latest/meta-data/", expect="json")
    assert connects == []


def test_ipv6_loopback_server_is_never_reached(guarded):
    try:
        server = FixtureServer("::1").start()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    try:
        server.serve("/m.json", b"[]")
        with pytest.raises(FetchError, match=r"a loopback address"):
            guarded.get(server.url("/m.json"), expect="json")
        assert server.connections == 0
    finally:
        server.stop()


def test_only_http_and_https(guarded):
    for url in ("file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/"):
        with pytest.raises(FetchError, match="only http and https"):
            guarded.get(url, expect="text")


def test_redirect_to_a_private_address_is_refused_before_connecting(server, validators):
    # The second server listens on 127.0.0.2: a private target the redirect points at.
    target = FixtureServer("127.0.0.2").start()
    try:
        target.serve("/admin", b"[]")
        server.route("/start", Reply(redirect=target.url("/admin")))
        fetcher = Fetcher(
            validators=validators, allow_private=False, host_delay=0,
            guard=public_guard(server),
        )  # fmt: skip
        with fetcher, pytest.raises(FetchError, match=r"127\.0\.0\.2 is 127\.0\.0\.2, a loopback"):
            fetcher.get(server.url("/start"), expect="json")
        assert len(server.seen("/start")) == 1
        assert target.connections == 0 and target.requests == []
    finally:
        target.stop()


def test_redirect_to_a_name_resolving_to_private_is_refused(server, validators):
    server.route("/start", Reply(redirect="http://metadata.internal/computeMetadata/v1/"))

    def resolver(host, port):
        return {"metadata.internal": ["169.254.169.254"]}.get(host) or [server.host]

    fetcher = Fetcher(
        validators=validators, allow_private=False, host_delay=0, resolver=resolver,
        guard=public_guard(server),
    )  # fmt: skip
    with (
        fetcher,
        pytest.raises(FetchError, match=r"metadata\.internal is 169\.254\.169\.254, a link-local"),
    ):
        fetcher.get(server.url("/start"), expect="json")


def test_a_name_with_one_private_address_among_public_ones_is_refused(guarded):
    guarded.resolver = lambda host, port: ["93.184.215.14", "10.0.0.7"]
    with pytest.raises(FetchError, match=r"is 10\.0\.0\.7, a private address"):
        guarded.get("http://mixed.example/", expect="json")


def test_connection_goes_to_the_checked_address_with_the_original_host(server, validators):
    # The name does not exist in DNS: if anything resolved it again, the request would fail.
    server.serve("/m.json", b"[]")
    resolved = []

    def resolver(host, port):
        resolved.append(host)
        return [server.host]

    with Fetcher(validators=validators, allow_private=True, host_delay=0, resolver=resolver) as f:
        fetched = f.get(f"http://tools.invalid:{server.port}/m.json", expect="json")
    assert fetched.body == b"[]"
    assert resolved == ["tools.invalid"]
    assert server.seen("/m.json")[0].headers["Host"] == f"tools.invalid:{server.port}"


def test_allow_private_setting_lets_tests_reach_loopback(server, settings, validators):
    settings.SHIPWITH_INGEST_ALLOW_PRIVATE = True
    url = server.serve("/m.json", b"[]")
    with Fetcher(validators=validators, host_delay=0) as f:
        assert f.get(url, expect="json").body == b"[]"


@pytest.fixture
def tls_server():
    """An HTTPS fixture server with a certificate for tools.test only, from a test CA."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("tools.test").configure_cert(context)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    with FixtureServer(tls=context) as running:
        yield running, client


def test_https_goes_to_the_pinned_address_and_checks_the_certificate_of_the_name(
    tls_server, validators
):
    server, client = tls_server
    server.serve("/m.json", b"[]")

    def resolver(host, port):
        return [server.host]

    fetcher = Fetcher(
        validators=validators, allow_private=True, host_delay=0, resolver=resolver, verify=client
    )
    with fetcher:
        fetched = fetcher.get(f"https://tools.test:{server.port}/m.json", expect="json")
        assert fetched.body == b"[]"
        # The same address under a name the certificate does not cover is refused.
        with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED|certificate"):
            fetcher.get(f"https://other.test:{server.port}/m.json", expect="json")
    assert server.seen("/m.json")[0].headers["Host"] == f"tools.test:{server.port}"


def test_an_unreachable_address_of_a_name_falls_through_to_the_next(server, validators):
    # A name whose first address refuses connections (as an unroutable IPv6 one would).
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    server.serve("/m.json", b"[]")

    def resolver(host, port):
        return ["127.0.0.3", server.host]

    with Fetcher(validators=validators, allow_private=True, host_delay=0, resolver=resolver) as f:
        assert f.get(f"http://tools.test:{server.port}/m.json", expect="json").body == b"[]"
        with pytest.raises(FetchError, match="connection failed"):
            f.get(f"http://127.0.0.1:{dead_port}/m.json", expect="json")


def test_a_port_other_than_80_and_443_is_refused_before_connecting(server, settings, validators):
    settings.SHIPWITH_INGEST_ALLOWED_PORTS = frozenset({80, 443})  # the production default
    url = server.serve("/m.json", b"[]")
    with Fetcher(validators=validators, allow_private=True, host_delay=0) as fetcher:
        with pytest.raises(
            FetchError,
            match=rf"refused before connecting: port {server.port} is not allowed "
            r"\(SHIPWITH_INGEST_ALLOWED_PORTS: 80, 443\)",
        ):
            fetcher.get(url, expect="json")
    assert server.connections == 0 and server.requests == []


def test_a_redirect_to_a_port_not_allowed_is_refused_before_connecting(
    server, settings, validators
):
    settings.SHIPWITH_INGEST_ALLOWED_PORTS = frozenset({80, 443, server.port})
    other = FixtureServer().start()  # the same host on a port nobody allowed
    try:
        other.serve("/smtp", b"[]")
        server.route("/start", Reply(redirect=other.url("/smtp")))
        with Fetcher(validators=validators, allow_private=True, host_delay=0) as fetcher:
            with pytest.raises(FetchError, match=rf"port {other.port} is not allowed"):
                fetcher.get(server.url("/start"), expect="json")
        assert len(server.seen("/start")) == 1
        assert other.connections == 0
    finally:
        other.stop()


def lookup_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ingest resolve")]


def test_hung_dns_lookups_do_not_pile_up(server, validators):
    """A DNS server that never answers: each fetch fails within the connect timeout, a name
    is looked up once however often it is fetched, and past LOOKUPS_MOST hung lookups a
    fetch fails at once, naming them; once DNS answers again, fetching works."""
    answered, calls = threading.Event(), []

    def resolver(host, port):
        calls.append(host)
        if host.endswith(".hung.test"):
            answered.wait(30)
        return [server.host]

    url = server.serve("/m.json", b"[1]")
    path = url.split(str(server.port), 1)[1]
    with Fetcher(
        validators=validators,
        allow_private=True,
        host_delay=0,
        connect_timeout=0.2,
        resolver=resolver,
    ) as fetcher:
        try:
            for _ in range(3):
                with pytest.raises(
                    FetchError, match=r"resolving a\.hung\.test timed out after 0\.2 s"
                ):
                    fetcher.get(f"http://a.hung.test:{server.port}{path}", expect="json")
            assert calls == ["a.hung.test"]
            for n in range(1, LOOKUPS_MOST):
                with pytest.raises(FetchError, match="timed out"):
                    fetcher.get(f"http://h{n}.hung.test:{server.port}{path}", expect="json")
            started = time.monotonic()
            with pytest.raises(
                FetchError,
                match=r"not resolving z\.hung\.test: 8 DNS lookups are still unanswered \(a\.hung\.test, h1\.hung\.test",
            ):
                fetcher.get(f"http://z.hung.test:{server.port}{path}", expect="json")
            assert time.monotonic() - started < 0.1
            assert len(lookup_threads()) == LOOKUPS_MOST
        finally:
            answered.set()
        deadline = time.monotonic() + 5
        while lookup_threads() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fetcher.get(f"http://z.hung.test:{server.port}{path}", expect="json").body == b"[1]"
