"""Scale-out, proved: two app servers and two task workers on PostgreSQL and Redis, behind nginx.

Everything real on loopback: the shipped nginx config in front of two gunicorn servers, two
`db_worker` processes, the PostgreSQL of DATABASE_URL, a redis-server of our own, the panel's
fake OpenAI-compatible model server and the newsletter tests' SMTP server. The test shows what
several processes must not get wrong: votes exact (none lost, none counted twice), one panel
run per tool, each newsletter reader mailed once, rate limits shared.
"""

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter

import httpx
import pytest

from tests.deploy.nginx import free_port, needs_nginx, nginx
from tests.deploy.test_nginx import smtp
from tests.panel.conftest import good_review
from tests.panel.fault_server import FaultServer, Reply
from tests.votes.live import live_site, redis_server

DATABASE_URL = os.environ.get("DATABASE_URL", "")
pytestmark = [
    needs_nginx,
    pytest.mark.skipif(
        not DATABASE_URL.startswith(("postgres://", "postgresql://")),
        reason="scale-out runs on PostgreSQL (set DATABASE_URL)",
    ),
]

TOOLS = 4
READERS = 12
VOTES_EACH = 8
SUBSCRIBERS = 20
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}

SETUP = """
import json
from django.utils import timezone
from shipwith.catalog.models import Tool
from shipwith.newsletter.issues import issue_compose
from shipwith.newsletter.subscribers import subscription_confirm
from shipwith.newsletter.selectors import Week
from shipwith.comparisons.models import Comparison
a, b = Tool.objects.order_by("slug")[:2]
Comparison.objects.create(tool_a=a, tool_b=b, published_at=timezone.now())
for n in range({subscribers}):
    subscription_confirm(email=f"reader{{n}}@example.com", category_ids=[], issued_at=timezone.now())
issue = issue_compose(week=Week.containing(timezone.now()))
print(json.dumps({{"issue": issue.pk, "tools": list(Tool.objects.values_list("pk", flat=True))}}))
"""

# What an editor's double click, or two app servers at once, would do: ask twice for everything.
ENQUEUE = """
from django.db import transaction
from shipwith.newsletter.tasks import issue_send_again
from shipwith.panel.tasks import panel_run_enqueue
for tool_id in {tools}:
    with transaction.atomic():
        panel_run_enqueue(tool_id=tool_id)
issue_send_again.enqueue({issue}, 0)
"""


def shell(site, code: str) -> str:
    command = [sys.executable, "-m", "shipwith", "shell", "-c", code]
    result = subprocess.run(command, env=site.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def reader(url: str, seed: int, accepted: dict, errors: list, barrier: threading.Barrier):
    rng = random.Random(seed)
    with httpx.Client(base_url=url, headers=SAME_ORIGIN, timeout=30) as client:
        barrier.wait()
        for _ in range(VOTES_EACH):
            slug, value = f"tool-{rng.randrange(TOOLS)}", rng.choice(["ship", "skip"])
            response = client.post(f"/tools/{slug}/vote/", data={"value": value})
            if response.status_code != 302:
                errors.append((response.status_code, response.text[:300]))
                continue
            voter = int(client.cookies["shipwith_voter"].strip('"').split(":")[0])
            accepted[voter, slug] = value  # a reader's responses come back in order


def wait_for_tasks(site, deadline: float) -> list[tuple]:
    while True:
        rows = site.query(
            "SELECT status, COUNT(*) FROM django_tasks_database_dbtaskresult GROUP BY 1"
        )
        if not {status for status, _ in rows} & {"READY", "RUNNING"}:
            return rows
        assert time.monotonic() < deadline, rows
        time.sleep(0.3)


def test_two_app_servers_and_two_workers_behind_nginx(tmp_path):
    model = FaultServer(default=Reply(good_review())).start()
    port = free_port()
    try:
        with redis_server() as redis_url, smtp() as (mailbox, smtp_port):
            env = {
                "REDIS_URL": redis_url,
                "SHIPWITH_BASE_URL": f"http://127.0.0.1:{port}",
                "SHIPWITH_TRUSTED_PROXIES": "127.0.0.1",
                "SHIPWITH_VOTES_NEW_VOTERS_PER_IP": str(READERS + 2),
                "SHIPWITH_LLM": "openai:fake-model",
                "OPENAI_BASE_URL": model.base_url,
                "OPENAI_API_KEY": "test",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp_port),
            }
            with (
                live_site(
                    tmp_path / "app", tools=TOOLS, workers=1, servers=2, task_workers=2, env=env
                ) as site,
                nginx(
                    tmp_path / "nginx",
                    upstreams=[u.removeprefix("http://") for u in site.urls],
                    static_dir=tmp_path / "app" / "home" / "static",
                    port=port,
                ) as url,
            ):
                _exercise(site, url, model, mailbox)
    finally:
        model.stop()


def _exercise(site, url, model, mailbox) -> None:
    started = time.monotonic()
    setup = json.loads(shell(site, SETUP.format(subscribers=SUBSCRIBERS)).strip().splitlines()[-1])
    enqueue = ENQUEUE.format(tools=setup["tools"], issue=setup["issue"])
    twice = [
        subprocess.Popen([sys.executable, "-m", "shipwith", "shell", "-c", enqueue], env=site.env)
        for _ in range(2)
    ]

    # Meanwhile readers vote through nginx, spread over both app servers.
    accepted: dict = {}
    errors: list = []
    barrier = threading.Barrier(READERS)
    threads = [
        threading.Thread(target=reader, args=(url, seed, accepted, errors, barrier))
        for seed in range(READERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(process.wait(timeout=60) == 0 for process in twice)

    # Votes exact: every accepted vote stored once, every tally equal to the stored votes.
    stored = site.query(
        "SELECT v.voter_id, t.slug, v.value FROM votes_vote v JOIN catalog_tool t ON t.id = v.tool_id"
    )
    assert sorted(stored) == sorted(
        (voter, slug, value) for (voter, slug), value in accepted.items()
    )
    expected = Counter((slug, value) for (_, slug), value in accepted.items())
    for slug, ships, skips in site.query(
        "SELECT t.slug, x.ships, x.skips FROM votes_tooltally x JOIN catalog_tool t ON t.id = x.tool_id"
    ):
        assert (ships, skips) == (expected[slug, "ship"], expected[slug, "skip"]), slug

    # Rate limits shared: the address may mint READERS + 2 voters a day, whichever server asks.
    statuses = [
        httpx.post(f"{url}/tools/tool-0/vote/", data={"value": "ship"}, headers=SAME_ORIGIN)
        for _ in range(6)
    ]
    assert [r.status_code for r in statuses] == [302, 302, 429, 429, 429, 429]

    wait_for_tasks(site, started + 60)
    # One panel run per tool, each persona asked once per tool, one current review per seat.
    runs = site.query("SELECT tool_id, COUNT(*) FROM panel_panelrun GROUP BY tool_id")
    assert sorted(runs) == sorted((tool_id, 1) for tool_id in setup["tools"])
    # Two workers executing one run claim its seats first: every seat asked exactly once.
    # ("Write your review of Tool 1 as the Futurist." ends each seat's prompt; the moderator's
    # reads of the pairs, queued when a panel completes, ask the same server for something else.)
    last_lines = (
        request.body["messages"][-1]["content"].strip().splitlines()[-1]
        for request in model.requests
    )
    asked = Counter(line for line in last_lines if line.startswith("Write your review of"))
    assert len(asked) == 4 * TOOLS and set(asked.values()) == {1}, asked
    reviews = site.query("SELECT tool_id, persona_id, COUNT(*) FROM panel_review GROUP BY 1, 2")
    assert len(reviews) == 4 * TOOLS and {count for _, _, count in reviews} == {1}

    # Each newsletter reader mailed once, though two workers were asked to send the issue.
    mailed = Counter(address for message in mailbox.messages for address in message.rcpt_tos)
    assert mailed == Counter({f"reader{n}@example.com": 1 for n in range(SUBSCRIBERS)})
    assert time.monotonic() - started < 60
