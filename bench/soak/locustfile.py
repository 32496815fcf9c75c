"""The soak's readers, voters and sign-ups, for Locust (run by bench/soak/run.py).

Readers browse cached and uncached pages and the API, a few tools hot and a long tail (Zipf
over the catalog); voters cast, change and withdraw ship/skip votes by form and by fetch +
JSON; a few readers sign up for the newsletter. Each client comes from an address of its own
(X-Forwarded-For, believed from nginx on loopback). What the server accepted is written to
SOAK_OUT when Locust quits, for the invariants: every vote as the server answered it, every
sign-up, and every 5xx or lost response with its time.
"""

import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path

from locust import HttpUser, between, events, task

OUT = Path(os.environ.get("SOAK_OUT", "."))
PLAN = json.loads(Path(os.environ["SOAK_PLAN"]).read_text()) if "SOAK_PLAN" in os.environ else {}
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
VOTER_COOKIE = "shipwith_voter"

votes: list[list] = []  # [sent, answered, voter, slug, value or None, certain]
signups: list[list] = []  # [sent, answered, email, certain]
problems: list[list] = []  # [time, request name, status or error]
addresses = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))


class Zipf:
    """Items by rank, the first much more often than the last (s = 1.1)."""

    def __init__(self, items: list[str], s: float = 1.1) -> None:
        self.items = items or ["none"]
        self.weights = list(
            itertools.accumulate(1 / (rank**s) for rank in range(1, len(items) + 1))
        )

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.items, cum_weights=self.weights)[0]


TOOLS = Zipf(PLAN.get("tools", []))
PAIRS = Zipf(PLAN.get("pairs", []))
CATEGORIES = PLAN.get("categories", ["none"])


@events.request.add_listener
def _record_problem(request_type, name, response, exception, **kw):
    status = getattr(response, "status_code", 0)
    if exception is not None and not status:
        problems.append([time.time(), name, f"{type(exception).__name__}: {exception}"[:200]])
    elif status >= 500:
        problems.append([time.time(), name, status])


@events.quitting.add_listener
def _write_records(environment, **kw):
    OUT.mkdir(parents=True, exist_ok=True)
    for name, rows in (("votes", votes), ("signups", signups), ("problems", problems)):
        (OUT / f"{name}.json").write_text(json.dumps(rows))


class Client(HttpUser):
    abstract = True

    def on_start(self) -> None:
        self.rng = random.Random()
        self.client.headers["X-Forwarded-For"] = next(addresses)


class Reader(Client):
    weight = 6
    wait_time = between(0.3, 1.5)

    @task(6)
    def tool_page(self):
        self.client.get(f"/tools/{TOOLS.pick(self.rng)}/", name="page: tool (nginx cache)")

    @task(3)
    def tool_page_uncached(self):
        # A signed-in looking reader passes nginx's cache (the app's page cache still serves).
        cookies = {"sessionid": "soak"}
        name = "page: tool (past nginx)"
        self.client.get(f"/tools/{TOOLS.pick(self.rng)}/", cookies=cookies, name=name)

    @task(3)
    def comparison(self):
        self.client.get(f"/compare/{PAIRS.pick(self.rng)}/", name="page: comparison")

    @task(2)
    def home(self):
        self.client.get("/", name="page: home")

    @task(1)
    def category(self):
        self.client.get(f"/categories/{self.rng.choice(CATEGORIES)}/", name="page: category")

    @task(1)
    def vote_form_page(self):
        # The reader's own vote form: rendered for this reader, never from a cache.
        self.client.get(f"/tools/{TOOLS.pick(self.rng)}/vote/", name="page: vote form (personal)")

    @task(1)
    def leaderboard(self):
        self.client.get("/leaderboard/", name="page: leaderboard")

    @task(3)
    def api_tools(self):
        self.client.get("/api/v1/tools", name="api: tools")

    @task(3)
    def api_tool(self):
        self.client.get(f"/api/v1/tools/{TOOLS.pick(self.rng)}", name="api: tool")

    @task(1)
    def api_comparisons(self):
        self.client.get("/api/v1/comparisons", name="api: comparisons")


class Voter(Client):
    weight = 3
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        super().on_start()
        self.mine: dict[str, str] = {}  # slug -> the vote the server last accepted

    def _voter(self) -> int | None:
        cookie = self.client.cookies.get(VOTER_COOKIE)
        return int(cookie.strip('"').split(":")[0]) if cookie else None

    def _cast(self, slug: str, value: str | None, as_json: bool) -> None:
        path = f"/tools/{slug}/vote/" + ("withdraw/" if value is None else "")
        kind = "withdraw" if value is None else ("change" if slug in self.mine else "vote")
        name = f"vote: {kind} ({'json' if as_json else 'form'})"
        headers = SAME_ORIGIN | ({"Accept": "application/json"} if as_json else {})
        data = {} if value is None else {"value": value}
        sent, voter = time.time(), self._voter()
        with self.client.post(
            path, data=data, headers=headers, name=name, allow_redirects=False,
            catch_response=True,
        ) as response:  # fmt: skip
            answered = time.time()
            expected = 200 if as_json else 302
            ok = response.status_code == expected
            if ok and as_json:
                ok = response.json().get("current") == value
            voter = self._voter() or voter
            if ok:
                response.success()
                votes.append([sent, answered, voter, slug, value, True])
                if value is None:
                    self.mine.pop(slug, None)
                else:
                    self.mine[slug] = value
                return
            response.failure(f"{response.status_code}: {response.text[:120]}")
            if response.status_code in (0, 502, 504) or response.status_code >= 500:
                # The answer was lost: the vote may or may not have been stored.
                votes.append([sent, answered, voter, slug, value, False])

    @task(5)
    def vote(self):
        slug = TOOLS.pick(self.rng)
        self._cast(slug, self.rng.choice(["ship", "skip"]), as_json=self.rng.random() < 0.5)

    @task(2)
    def change(self):
        if self.mine:
            slug = self.rng.choice(sorted(self.mine))
            other = "skip" if self.mine[slug] == "ship" else "ship"
            self._cast(slug, other, as_json=self.rng.random() < 0.5)

    @task(1)
    def withdraw(self):
        if self.mine:
            slug = self.rng.choice(sorted(self.mine))
            self._cast(slug, None, as_json=self.rng.random() < 0.5)


class Subscriber(Client):
    weight = 1
    wait_time = between(3, 10)

    @task
    def sign_up(self):
        email = f"soak-{uuid.uuid4().hex[:16]}@example.com"
        sent = time.time()
        with self.client.post(
            "/newsletter/", data={"email": email}, headers=SAME_ORIGIN, name="newsletter: sign-up",
            allow_redirects=False, catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code == 302:
                response.success()
                signups.append([sent, time.time(), email, True])
            else:
                response.failure(f"{response.status_code}: {response.text[:120]}")
                if response.status_code == 0 or response.status_code >= 500:
                    signups.append([sent, time.time(), email, False])
