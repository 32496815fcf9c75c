"""A script that drops its cookie before every vote: one address mints at most ten voters a day.

Through two app servers on one database, so the limit is proved to live in the shared store
(the database by default, Redis when REDIS_URL is set), not in one process's memory.
"""

import contextlib

import httpx
import pytest

from tests.votes.live import live_site, redis_server

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


@pytest.mark.parametrize("store", ["database", "redis"])
def test_sixty_cookieless_votes_from_one_address_count_ten(tmp_path, store):
    env = {"SHIPWITH_VOTES_NEW_VOTERS_PER_IP": "10"}
    with contextlib.ExitStack() as stack:
        if store == "redis":
            env["REDIS_URL"] = stack.enter_context(redis_server())
        site = stack.enter_context(live_site(tmp_path, tools=1, workers=1, servers=2, env=env))
        responses = []
        for n in range(60):  # a fresh client each time: no cookie, as the script does
            with httpx.Client(base_url=site.urls[n % 2], headers=SAME_ORIGIN) as client:
                responses.append(client.post("/tools/tool-0/vote/", data={"value": "skip"}))
        statuses = [response.status_code for response in responses]
        assert statuses.count(302) == 10 and statuses.count(429) == 50, statuses
        # Each server accepted some and refused the rest: they counted together.
        assert set(statuses[0::2]) == set(statuses[1::2]) == {302, 429}
        refused = [response for response in responses if response.status_code == 429]
        assert all(int(response.headers["Retry-After"]) > 0 for response in refused)
        assert "Too many new voters from your network" in refused[0].text
        [(ships, skips)] = site.query("SELECT ships, skips FROM votes_tooltally")
        assert (ships, skips) == (0, 10)
        assert site.query("SELECT COUNT(*) FROM votes_voter")[0][0] == 10

        # A reader who already has a voter cookie is not held back by the strangers.
        with httpx.Client(base_url=site.url, headers=SAME_ORIGIN) as reader:
            reader.cookies.set("shipwith_voter", responses[0].cookies["shipwith_voter"])
            assert reader.post("/tools/tool-0/vote/", data={"value": "ship"}).status_code == 302
        [(ships, skips)] = site.query("SELECT ships, skips FROM votes_tooltally")
        assert (ships, skips) == (1, 9)
