"""Rate limits counted where every process sees them, and the client address they count."""

import concurrent.futures
import time
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

from shipwith.core import client, counters, limits
from shipwith.core.client import client_ip
from shipwith.core.limits import limit_exceeded, limits_waits
from shipwith.core.models import RateWindow
from shipwith.core.rates import rate_parse
from tests.deploy.nginx import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.mark.django_db
def test_hits_past_the_rate_wait_until_the_window_ends():
    assert [limit_exceeded("signup:203.0.113.7", (3, 60)) for _ in range(3)] == [0, 0, 0]
    wait = limit_exceeded("signup:203.0.113.7", (3, 60))
    assert 1 <= wait <= 61
    # The counter is a row every process reads: the fourth hit is on record.
    assert RateWindow.objects.get(key__startswith="signup:203.0.113.7@").hits == 4
    assert limit_exceeded("signup:198.51.100.1", (3, 60)) == 0  # another key, its own count


@pytest.mark.django_db
def test_one_call_counts_several_keys_and_says_which_are_over():
    limit_exceeded("voter:7", (1, 60))
    waits = limits_waits({"ip:203.0.113.7": (5, 60), "voter:7": (1, 60)})
    assert waits["ip:203.0.113.7"] == 0 and waits["voter:7"] > 0


@pytest.mark.django_db
def test_a_generous_limit_is_counted_in_blocks_not_a_write_per_hit(django_assert_num_queries):
    # 1,000 a minute: a process claims 10 hits at a time from the shared counter.
    with django_assert_num_queries(3):
        assert {limit_exceeded("api:203.0.113.7", (1000, 60)) for _ in range(25)} == {0}
    assert RateWindow.objects.get(key__startswith="api:203.0.113.7@").hits == 30


@pytest.mark.django_db
def test_blocks_never_let_several_processes_past_the_limit(monkeypatch):
    # Three processes (each its own blocks) share a limit of 300 a minute, in blocks of 3.
    processes = [limits._Blocks() for _ in range(3)]
    allowed = 0
    for hit in range(400):
        monkeypatch.setattr(limits, "_blocks", processes[hit % 3])
        allowed += limit_exceeded("votes:ip:203.0.113.7", (300, 60)) == 0
    # Never past the limit; early by at most the other processes' unused numbers (2 × 2).
    assert 296 <= allowed <= 300
    # A window's hit numbers are unique across processes: the counter holds every claim.
    assert RateWindow.objects.get().hits >= 400


@pytest.mark.django_db
def test_a_forked_process_claims_its_own_block(monkeypatch):
    assert limit_exceeded("api:x", (1000, 60)) == 0  # this process holds numbers 2..10
    monkeypatch.setattr(limits._blocks, "pid", -1)  # as seen from a child forked now
    assert limit_exceeded("api:x", (1000, 60)) == 0
    assert RateWindow.objects.get().hits == 20  # the child claimed anew, reusing none


@pytest.mark.django_db
def test_expired_windows_are_pruned(monkeypatch):
    RateWindow.objects.create(key="old@1", hits=9, expires_at=int(time.time()) - 10)
    monkeypatch.setattr(counters, "_pruned_at", 0.0)
    limit_exceeded("fresh", (1, 60))
    assert list(RateWindow.objects.values_list("hits", flat=True)) == [1]


@pytest.mark.django_db
def test_a_very_long_key_is_kept_apart_from_its_neighbours():
    base = "x" * 300
    assert limit_exceeded(base + "a", (1, 60)) == 0
    assert limit_exceeded(base + "b", (1, 60)) == 0
    assert all(len(key) <= 255 for key in RateWindow.objects.values_list("key", flat=True))


def test_with_redis_the_counters_live_in_redis(settings, db):
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"shipwith-test-{uuid.uuid4().hex}:"
    settings.SHIPWITH_LIMITS_REDIS_URL = REDIS_URL
    settings.SHIPWITH_LIMITS_PREFIX = prefix
    try:
        assert [limit_exceeded("signup:a", (2, 60)) for _ in range(3)][:2] == [0, 0]
        assert limit_exceeded("signup:a", (2, 60)) > 0
        [key] = client.keys(prefix + "*")
        assert int(client.get(key)) == 4 and 0 < client.ttl(key) <= 62
        assert not RateWindow.objects.exists()
    finally:
        for key in client.keys(prefix + "*"):
            client.delete(key)


@pytest.mark.parametrize("rate", ["ten/m", "10/fortnight", "10", "/m", "0/m"])
def test_a_bad_rate_says_what_is_wrong(rate):
    with pytest.raises(ValueError, match="expected N/s, N/m, N/h or N/d"):
        rate_parse(rate)


def forwarded(rf, peer: str, header: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if header is not None:
        extra["HTTP_X_FORWARDED_FOR"] = header
    return rf.post("/", **extra)


def test_without_trusted_proxies_forwarded_headers_are_ignored(rf, settings):
    settings.SHIPWITH_TRUSTED_PROXIES = ""
    assert client_ip(forwarded(rf, "203.0.113.7", "198.51.100.1")) == "203.0.113.7"


def test_a_proxy_that_is_not_trusted_is_pointed_out_once(rf, settings, caplog, monkeypatch):
    settings.SHIPWITH_TRUSTED_PROXIES = ""
    monkeypatch.setattr(client, "_warned", False)
    for _ in range(3):
        assert client_ip(forwarded(rf, "127.0.0.1", "203.0.113.7")) == "127.0.0.1"
    [record] = [r for r in caplog.records if r.name == "shipwith.limits"]
    assert "set SHIPWITH_TRUSTED_PROXIES" in record.getMessage()


def test_the_right_most_untrusted_entry_is_the_client(rf, settings):
    settings.SHIPWITH_TRUSTED_PROXIES = "127.0.0.1, 10.0.0.0/8"
    # A client wrote "6.6.6.6" itself; nginx appended its real address; a second proxy followed.
    request = forwarded(rf, "127.0.0.1", "6.6.6.6, 203.0.113.7, 10.1.2.3")
    assert client_ip(request) == "203.0.113.7"
    assert client_ip(forwarded(rf, "127.0.0.1", "203.0.113.9")) == "203.0.113.9"


def test_a_peer_that_is_not_a_trusted_proxy_cannot_forward(rf, settings):
    settings.SHIPWITH_TRUSTED_PROXIES = "127.0.0.1"
    assert client_ip(forwarded(rf, "198.51.100.4", "203.0.113.7")) == "198.51.100.4"


def test_a_count_of_proxies_trusts_that_many_hops(rf, settings):
    settings.SHIPWITH_TRUSTED_PROXIES = "1"
    assert client_ip(forwarded(rf, "127.0.0.1", "6.6.6.6, 203.0.113.7")) == "203.0.113.7"
    settings.SHIPWITH_TRUSTED_PROXIES = "2"
    assert client_ip(forwarded(rf, "127.0.0.1", "6.6.6.6, 203.0.113.7")) == "6.6.6.6"


def test_garbage_where_a_proxy_entry_should_be_falls_back_to_the_proxy(rf, settings):
    settings.SHIPWITH_TRUSTED_PROXIES = "127.0.0.1"
    assert client_ip(forwarded(rf, "127.0.0.1", "203.0.113.7, not-an-ip")) == "127.0.0.1"


def test_an_ipv6_client_counts_as_its_64(rf, settings):
    settings.SHIPWITH_TRUSTED_PROXIES = ""
    one = client_ip(forwarded(rf, "2001:db8:1:2::1"))
    other = client_ip(forwarded(rf, "2001:db8:1:2:ffff::9"))
    assert one == other == "2001:db8:1:2::/64"
    assert client_ip(forwarded(rf, "::ffff:203.0.113.7")) == "203.0.113.7"


def test_a_bad_trusted_proxies_setting_names_the_entry(rf, settings):
    settings.SHIPWITH_TRUSTED_PROXIES = "127.0.0.1, nginx.internal"
    with pytest.raises(ImproperlyConfigured, match="'nginx.internal' is neither an address"):
        client_ip(forwarded(rf, "127.0.0.1", "203.0.113.7"))


class Clock:
    """Stands in for the `time` module in core.limits: a wall clock the test moves."""

    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now


MIDNIGHT = int(time.time()) // 86400 * 86400 + 2 * 86400  # a coming midnight UTC (Redis expires)


def redis_counting(settings):
    """Count the limits in the loopback Redis under a prefix of this test's; returns the
    cleanup that deletes its keys (skips when no Redis answers)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.SHIPWITH_LIMITS_REDIS_URL = REDIS_URL
    settings.SHIPWITH_LIMITS_PREFIX = prefix = f"shipwith-test-{uuid.uuid4().hex}:"
    return lambda: [client.delete(key) for key in client.keys(prefix + "*")]


def rolling_day(store: str, settings):
    """Ten new voters a day from one address, across midnight UTC, in `store`."""
    if store == "redis":
        return redis_counting(settings)
    settings.SHIPWITH_LIMITS_REDIS_URL = ""
    return lambda: None


def test_threads_claiming_blocks_at_once_lose_no_hit(settings):
    """gunicorn's threads claim blocks side by side: every number claimed goes to a hit."""
    cleanup = redis_counting(settings)  # thread-safe counters, every thread its own client
    limit, threads = 1000, 8  # blocks of 10

    def reader(_: int) -> int:
        allowed = 0
        for _ in range(140):
            time.sleep(0.001)  # a request's own work between two hits
            allowed += limit_exceeded("api:203.0.113.9", (limit, 86400)) == 0
        return allowed

    try:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            allowed = sum(pool.map(reader, range(threads)))
    finally:
        cleanup()
    # 1,120 hits on a limit of 1,000: all 1,000 go through (blocks dropped by a thread that
    # claimed beside another let 210-540 through).
    assert allowed == limit


@pytest.mark.django_db
@pytest.mark.parametrize("store", ["database", "redis"])
def test_a_rolling_day_lets_no_second_batch_through_at_midnight(store, settings, monkeypatch):
    cleanup = rolling_day(store, settings)
    clock = Clock(MIDNIGHT - 60)
    monkeypatch.setattr(limits, "time", clock)

    def hit() -> int:
        return limits.rolling_limit_exceeded("votes:new-voter:203.0.113.7", (10, 86400))

    try:
        assert [hit() for _ in range(10)] == [0] * 10  # the last minute of a UTC day
        clock.now = MIDNIGHT + 60  # a calendar-day window would start afresh here
        waits = [hit() for _ in range(5)]
        # The ten count until their hour has left the last 24 hours: at the next midnight,
        # 24 h and 1 min after them. Refused tries are taken back and push nothing out.
        assert waits == [86400 - 60] * 5
        clock.now = MIDNIGHT + 86400 - 1
        assert hit() == 1
        clock.now = MIDNIGHT + 86400
        # Ten new ones; the next waits for their hour to leave: 24 h and the hour itself.
        assert [hit() for _ in range(11)] == [0] * 10 + [86400 + 3600]
    finally:
        cleanup()


@pytest.mark.django_db
def test_a_rolling_day_spreads_its_hits_over_any_24_hours(monkeypatch):
    clock = Clock(MIDNIGHT)
    monkeypatch.setattr(limits, "time", clock)
    allowed = []
    for minute in range(0, 3 * 24 * 60, 7):  # a try every 7 minutes for three days
        clock.now = MIDNIGHT + minute * 60
        if limits.rolling_limit_exceeded("k", (10, 86400)) == 0:
            allowed.append(clock.now)
    # However the 24 hours are placed, they hold at most ten allowed hits.
    assert all(sum(start <= t < start + 86400 for t in allowed) <= 10 for start in allowed)
    assert len(allowed) >= 25  # and the limit does not starve: about ten a day go through


@pytest.mark.django_db
def test_while_redis_is_away_the_limits_count_in_the_database(settings):
    settings.SHIPWITH_LIMITS_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing there
    settings.SHIPWITH_LIMITS_PREFIX = f"shipwith-test-{uuid.uuid4().hex}:"
    # A reader's vote during a Redis restart is still limited, not answered 500.
    assert [limit_exceeded("signup:away", (2, 60)) for _ in range(2)] == [0, 0]
    assert limit_exceeded("signup:away", (2, 60)) > 0
    assert RateWindow.objects.filter(key__contains="signup:away").exists()
