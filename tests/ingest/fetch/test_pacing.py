"""Pacing: requests to one host are spaced, by one Fetcher and by several sharing the cache."""

from shipwith.ingest.fetch import Fetcher


def test_requests_to_one_host_are_spaced(server, validators):
    url = server.serve("/m.json", b"[]")
    with Fetcher(validators=validators, allow_private=True, host_delay=0.4) as f:
        f.get(url, expect="json", conditional=False)
        f.get(url, expect="json", conditional=False)
    first, second = server.seen("/m.json")
    assert second.at - first.at >= 0.38


def test_two_fetchers_sharing_the_cache_pace_one_host_between_them(server, validators):
    # Two runs (say, two worker processes sharing Redis) fetch from the same host at once.
    url = server.serve("/m.json", b"[]")
    with (
        Fetcher(validators=validators, allow_private=True, host_delay=1) as one,
        Fetcher(validators=validators, allow_private=True, host_delay=1) as two,
    ):
        one.get(url, expect="json", conditional=False)
        two.get(url, expect="json", conditional=False)
    first, second = server.seen("/m.json")
    assert second.at - first.at >= 0.9
