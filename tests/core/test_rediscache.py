"""A Redis that is away makes the cache miss, not the site fail."""

from shipwith.core.rediscache import RedisCache
from tests.deploy.nginx import free_port


def test_a_cache_whose_redis_is_away_misses_and_goes_ahead():
    cache = RedisCache(f"redis://127.0.0.1:{free_port()}/0", {})  # nothing listens there
    assert cache.get("page", "rendered again") == "rendered again"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set("page", "html") is None
    assert cache.add("cooldown", 1, timeout=60) is True  # the confirmation email goes out
    assert cache.get_or_set("memo", "computed") == "computed"
    assert cache.delete("page") is False
