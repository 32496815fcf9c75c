"""Many readers voting at once through a real multi-process server: counts stay exact."""

import random
import threading
from collections import Counter

import httpx

from tests.votes.live import csrf_token, live_site

CLIENTS = 48
OPERATIONS = 8
TOOLS = 3


def reader(site_url: str, seed: int, barrier: threading.Barrier, results: list) -> None:
    """Vote, change, withdraw and pick pairs in a random order; remember what was accepted."""
    rng = random.Random(seed)
    accepted_votes: dict[str, str | None] = {}
    accepted_pairs: dict[str, str | None] = {}
    with httpx.Client(base_url=site_url, timeout=30) as client:
        token = csrf_token(client, "/tools/tool-0/vote/")
        headers = {"X-CSRFToken": token, "Accept": "application/json"}
        barrier.wait()
        for _ in range(OPERATIONS):
            if rng.random() < 0.7:
                slug = f"tool-{rng.randrange(TOOLS)}"
                value = rng.choice(["ship", "ship", "skip", None])
                path = f"/tools/{slug}/vote/" + ("withdraw/" if value is None else "")
                response = client.post(path, data={"value": value or ""}, headers=headers)
                if response.status_code == 200:
                    accepted_votes[slug] = value
            else:
                pair = "tool-0-vs-tool-1"
                choice = rng.choice(["a", "b", "neither", None])
                path = f"/compare/{pair}/vote/" + ("withdraw/" if choice is None else "")
                response = client.post(path, data={"choice": choice or ""}, headers=headers)
                if response.status_code == 200:
                    accepted_pairs[pair] = choice
            assert response.status_code in (200, 429), response.text[:300]
        voter = client.cookies.get("shipwith_voter")
    results.append((int(voter.split(":")[0]) if voter else None, accepted_votes, accepted_pairs))


def test_concurrent_votes_are_counted_exactly_once(tmp_path):
    with live_site(tmp_path, tools=TOOLS, workers=2) as site:
        barrier = threading.Barrier(CLIENTS)
        results: list = []
        threads = [
            threading.Thread(target=reader, args=(site.url, seed, barrier, results))
            for seed in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(results) == CLIENTS  # every reader finished without an unexpected status

        expected_rows = {
            (voter, slug, value)
            for voter, votes, _ in results
            for slug, value in votes.items()
            if value is not None
        }
        stored_rows = set(
            site.query(
                "SELECT v.voter_id, t.slug, v.value FROM votes_vote v "
                "JOIN catalog_tool t ON t.id = v.tool_id"
            )
        )
        assert stored_rows == expected_rows

        expected_tally = Counter((slug, value) for _, slug, value in expected_rows)
        tallies = site.query(
            "SELECT t.slug, x.ships, x.skips FROM votes_tooltally x "
            "JOIN catalog_tool t ON t.id = x.tool_id"
        )
        assert len(tallies) == TOOLS
        for slug, ships, skips in tallies:
            assert (ships, skips) == (expected_tally[slug, "ship"], expected_tally[slug, "skip"])

        picks = Counter(
            choice for _, _, pairs in results for choice in pairs.values() if choice is not None
        )
        [(a, b, neither)] = site.query("SELECT a, b, neither FROM votes_pairtally")
        assert (a, b, neither) == (picks["a"], picks["b"], picks["neither"])
        assert site.query("SELECT COUNT(*) FROM votes_pairvote")[0][0] == sum(picks.values())
