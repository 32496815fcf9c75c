"""`make soak`: every job at once on the production shape, with faults; a report; invariants.

On loopback only, all started here and stopped at the end (Ctrl-C and failures included):
a PostgreSQL database of its own (PG_URL's server, dropped at the end), a redis-server,
two gunicorn app servers behind the shipped nginx config, two `shipwith worker`s; a model
answering in 0.5-3 s that fails 5% of calls, an SMTP sink, an OpenRouter-format model list
(an autopublishing source) that lists a new model every minute and changes a price now and
then. Locust drives readers (pages, cached and not, and the API; Zipf over the catalog),
voters (form and JSON; vote, change, withdraw) and sign-ups, while a newsletter issue goes to
SOAK_SUBSCRIBERS readers. At set fractions of the run: one app server and one worker are
killed -9 and started again, Redis restarts, PostgreSQL refuses new connections for 10 s, and
`shipwith backup` takes a copy, restored afterwards into a fresh database and checked.

    SOAK_SECONDS=600 .venv/bin/python bench/soak/run.py   (make soak)

Environment: SOAK_SECONDS (600), SOAK_USERS (30 Locust users), SOAK_SUBSCRIBERS (20000),
SOAK_TAIL (300 extra tools: the long tail), PG_URL (postgres://postgres@127.0.0.1:5432/…).
Writes bench/soak/last-report.md (and prints it); exits 1 when an invariant breaks.
"""

import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import invariants  # noqa: E402
import report  # noqa: E402
import stack as stacks  # noqa: E402

SECONDS = float(os.environ.get("SOAK_SECONDS") or 600)
USERS = int(os.environ.get("SOAK_USERS") or 30)
SUBSCRIBERS = int(os.environ.get("SOAK_SUBSCRIBERS") or 20000)
TAIL = int(os.environ.get("SOAK_TAIL") or 300)
PG_URL = os.environ.get("PG_URL") or "postgres://postgres@127.0.0.1:5432/shipwith"
REPORT = Path(__file__).resolve().parent / "last-report.md"
CATEGORY = "hosted-models"  # where the listed models land
NEW_TOOL_EVERY = 60.0
PRICE_CHANGE_EVERY = 150.0
DRAIN_SECONDS = 300.0  # after the load: time for the queue to empty and the send to end
# (fraction of the run, what): the faults and the backup.
TIMELINE = [
    (0.10, "newsletter send"),
    (0.25, "kill -9 app server"),
    (0.40, "kill -9 worker"),
    (0.50, "backup"),
    (0.60, "restart Redis"),
    (0.75, "PostgreSQL refuses new connections"),
]
FAULT_GRACE = 10.0  # seconds after a fault ends that its errors still belong to it


@dataclass
class Run:
    site: stacks.Stack
    url: str
    out: Path
    listing: object  # fakes.Listing
    mail: object  # fakes.MailSink
    issue_id: int
    plan: dict
    windows: list[tuple[str, float, float]] = field(default_factory=list)
    killed_workers: set[str] = field(default_factory=set)
    backup: dict = field(default_factory=dict)
    rss: dict[str, tuple[int, int]] = field(default_factory=dict)
    listed: list[str] = field(default_factory=list)  # OpenRouter ids added during the run
    price_changes: int = 0
    fakes: object = None  # the module, imported once Django is set up
    load_started: float = 0.0  # Unix time Locust started
    notes: list[str] = field(default_factory=list)


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- setting up ------------------------------------------------------------------------------


def django_setup(env: dict) -> None:
    """Django in this process, on the soak's database: the checks read it with the ORM, and
    the tests' servers the soak reuses import models."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipwith.settings")
    import django

    django.setup()


def data_setup(site: stacks.Stack, listing, plan_path: Path) -> dict:
    """The starter catalog and a long tail, published comparisons, SUBSCRIBERS confirmed
    readers and the week's issue, the autopublishing source; the plan Locust reads."""
    from django.core.management import call_command
    from django.utils import timezone

    from shipwith.catalog.models import Category, Tool
    from shipwith.catalog.services import catalog_load_starter
    from shipwith.comparisons.models import Comparison
    from shipwith.comparisons.services import comparisons_publish
    from shipwith.newsletter.issues import issue_compose
    from shipwith.newsletter.models import Subscriber, SubscriberStatus
    from shipwith.newsletter.selectors import Week

    log(f"starter catalog: {catalog_load_starter()}")
    tail = site.tmp / "tail.yaml"
    lines = ["categories:", "  - {slug: long-tail, name: Long tail}", "tools:"]
    lines += [f"  - {{name: Tool {n}, slug: tool-{n}, category: long-tail}}" for n in range(TAIL)]
    tail.write_text("\n".join(lines) + "\n")
    site.shipwith("catalog", "import", str(tail))
    log(f"comparisons: {comparisons_publish()}")
    now = timezone.now()
    Subscriber.objects.bulk_create(
        (
            Subscriber(email=f"reader{n}@example.com", status=SubscriberStatus.CONFIRMED,
                       confirmed_at=now)
            for n in range(SUBSCRIBERS)
        ),
        batch_size=2000,
    )  # fmt: skip
    issue = issue_compose(week=Week.containing(now))
    log(f"{SUBSCRIBERS} confirmed subscribers; issue {issue.slug} composed")
    call_command(
        "ingest", "sources", "add", "soak-models", "--kind", "openrouter", "--url", listing.url,
        "--category", CATEGORY, "--autopublish", "--every", "30s", stdout=open(os.devnull, "w"),
    )  # fmt: skip
    rng = random.Random(19)
    starter = list(Tool.objects.exclude(category__slug="long-tail").values_list("slug", flat=True))
    rng.shuffle(starter)  # which tools are hot
    pairs = [
        f"{a}-vs-{b}"
        for a, b in Comparison.objects.published().values_list("tool_a__slug", "tool_b__slug")
    ]
    rng.shuffle(pairs)
    plan = {
        "tools": starter + [f"tool-{n}" for n in range(TAIL)],
        "pairs": pairs,
        "categories": list(Category.objects.values_list("slug", flat=True)),
        "issue": issue.pk,
    }
    plan_path.write_text(json.dumps(plan))
    return plan


# -- during the run ----------------------------------------------------------------------------


def rss_sample(site: stacks.Stack) -> dict[str, int]:
    sample = {name: stacks.rss_kb(child.pids()) for name, child in site.children.items()}
    sample["nginx"] = stacks.rss_kb(stacks.tree_pids(site.nginx_pid))
    sample["postgres (soak's backends)"] = stacks.rss_kb(site.db.backend_pids())
    sample["harness (fakes, SMTP sink)"] = stacks.rss_kb([os.getpid()])
    return sample


def running_worker(run: Run) -> str:
    """The worker running a task now (the one to kill), else the first."""
    from django_tasks_db.models import DBTaskResult

    ids = DBTaskResult.objects.running().values_list("worker_ids", flat=True)
    busy = {worker_ids[-1] for worker_ids in ids if worker_ids}
    for name in ("worker-0", "worker-1"):
        if stacks.worker_id(run.site.children[name]) in busy:
            return name
    return "worker-0"


def fault(run: Run, what: str) -> None:
    site, started = run.site, time.time()
    if what == "newsletter send":
        from shipwith.newsletter.tasks import issue_send_again

        issue_send_again.enqueue(run.issue_id, 0)
        log("newsletter send queued")
        return
    if what == "backup":
        threading.Thread(target=backup_take, args=(run,), daemon=True).start()
        return
    if what == "kill -9 app server":
        site.children["gunicorn-0"].kill()
        time.sleep(5)
        site.restart("gunicorn-0")
    elif what == "kill -9 worker":
        name = running_worker(run)
        run.killed_workers.add(stacks.worker_id(site.children[name]))
        site.children[name].kill()
        time.sleep(5)
        site.restart(name)
    elif what == "restart Redis":
        site.children["redis"].kill()
        time.sleep(3)
        site.restart("redis")
    elif what == "PostgreSQL refuses new connections":
        site.db.allow_connections(False)
        time.sleep(10)
        site.db.allow_connections(True)
    run.windows.append((what, started, time.time() + FAULT_GRACE))
    log(f"{what}: done in {time.time() - started:.1f} s")


def backup_take(run: Run) -> None:
    path = run.out / "backup"
    started = time.time()
    result = subprocess.run(
        [*stacks.SHIPWITH, "backup", str(path)], env=run.site.env, cwd=run.site.tmp,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    run.backup = {
        "started": started,
        "finished": time.time(),
        "path": path,
        "ok": result.returncode == 0,
        "output": (result.stdout + result.stderr)[-1500:],
    }
    log(f"backup: exit {result.returncode} in {time.time() - started:.1f} s")


def catalog_changes(run: Run, elapsed: float, state: dict) -> None:
    """A new model listed every minute, a price changed now and then."""
    if elapsed >= state["next_tool"]:
        n = len(run.listed)
        model_id = f"soaklab/soak-model-{n}"
        run.listing.add(
            run.fakes.model_record(model_id, f"Soaklab: Soak Model {n}", f"Soaklab's model {n}.")
        )
        run.listed.append(model_id)
        state["next_tool"] += NEW_TOOL_EVERY
        log(f"listed {model_id}")
    if elapsed >= state["next_price"] and run.listed:
        with run.listing._lock:  # the listing's own lock: its server reads the records
            record = next(r for r in run.listing.records if r["id"] == run.listed[0])
            prompt = float(record["pricing"]["prompt"]) * 1.25
            record["pricing"] = {**record["pricing"], "prompt": f"{prompt:.9f}"}
        run.price_changes += 1
        state["next_price"] += PRICE_CHANGE_EVERY
        log(f"price of {run.listed[0]} changed")


def locust_run(run: Run) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "locust", "-f", str(Path(__file__).parent / "locustfile.py"),
        "--headless", "--users", str(USERS), "--spawn-rate", str(max(1, USERS // 5)),
        "--run-time", f"{int(SECONDS)}s", "--host", run.url, "--csv", str(run.out / "locust"),
        "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING",
    ]  # fmt: skip
    env = {**os.environ, "SOAK_OUT": str(run.out), "SOAK_PLAN": str(run.out / "plan.json")}
    log_file = open(run.out / "locust.log", "w")  # noqa: SIM115 - the child holds it open
    return subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)


def drive(run: Run) -> None:
    """The load for SECONDS, with the catalog changing and the faults at their moments."""
    locust = locust_run(run)
    started, run.load_started = time.monotonic(), time.time()
    state = {"next_tool": 20.0, "next_price": 0.3 * SECONDS}
    timeline = list(TIMELINE)
    first_rss = None
    try:
        while locust.poll() is None:
            elapsed = time.monotonic() - started
            if first_rss is None and elapsed > min(20.0, SECONDS / 5):
                first_rss = rss_sample(run.site)
            catalog_changes(run, elapsed, state)
            if timeline and elapsed >= timeline[0][0] * SECONDS:
                fault(run, timeline.pop(0)[1])
            time.sleep(0.5)
            if elapsed > SECONDS + 120:
                raise RuntimeError("Locust did not stop on time")
    finally:
        if locust.poll() is None:
            locust.send_signal(signal.SIGINT)
            locust.wait(timeout=30)
    last_rss = rss_sample(run.site)
    run.rss = {name: ((first_rss or {}).get(name, 0), last_rss.get(name, 0)) for name in last_rss}
    for what in timeline:  # a run too short for some of them
        run.notes.append(f"not reached: {what[1]}")


def drain(run: Run) -> None:
    """Wait for the queue to empty (every due task run, the send finished) and for every
    listed model to have become a tool with a finished panel."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from shipwith.catalog.models import Tool

    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        tools = Tool.objects.filter(openrouter_slug__in=run.listed)
        if tools.count() < len(run.listed) or tools.filter(panel_runs__finished_at=None).exists():
            time.sleep(1)
            continue
        busy = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"])
        due = busy.filter(run_after__lte=timezone.now() + dt.timedelta(seconds=2)).exclude(
            status="READY", task_path__endswith=".ingest_poll"
        )  # the polling chain always has its next look queued
        if not due.exists():
            return
        time.sleep(1)
    run.notes.append(f"the queue did not drain within {DRAIN_SECONDS:.0f} s")


# -- afterwards ------------------------------------------------------------------------------


def read_json(path: Path) -> list:
    return json.loads(path.read_text()) if path.exists() else []


def checks(run: Run) -> list[invariants.Check]:
    from django.db.models import Count, Q
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from shipwith.catalog.models import Tool
    from shipwith.newsletter.digest import LIST_NAME
    from shipwith.newsletter.models import Delivery, DeliveryStatus
    from shipwith.panel.models import Persona, Review
    from shipwith.votes.models import ToolTally, Vote

    actions = [invariants.Action(*row) for row in read_json(run.out / "votes.json")]
    stored = {
        (v, s): value for v, s, value in Vote.objects.values_list("voter_id", "tool__slug", "value")
    }
    tallies = {
        s: (a, b) for s, a, b in ToolTally.objects.values_list("tool__slug", "ships", "skips")
    }
    counted = {
        slug: (ships, skips)
        for slug, ships, skips in Vote.objects.values("tool__slug").annotate(
            ships=Count("pk", filter=Q(value="ship")), skips=Count("pk", filter=Q(value="skip"))
        ).values_list("tool__slug", "ships", "skips")
    }  # fmt: skip
    found = invariants.votes_check(actions, stored, tallies, counted)

    deliveries = Delivery.objects.filter(issue_id=run.issue_id)
    planned = set(deliveries.values_list("subscriber__email", flat=True))
    in_doubt = set(
        deliveries.filter(status=DeliveryStatus.IN_DOUBT).values_list(
            "subscriber__email", flat=True
        )
    )
    unsettled = deliveries.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED]
    ).count()
    digest, confirm = Counter(), Counter()
    for message in run.mail.messages:
        (digest if message.subject.startswith(LIST_NAME) else confirm).update(message.rcpt_tos)
    signups = [(email, certain) for _, _, email, certain in read_json(run.out / "signups.json")]
    found += invariants.mail_check(
        planned=planned, in_doubt=in_doubt, unsettled=unsettled, digest_recipients=digest,
        signups=signups, confirm_recipients=confirm,
    )  # fmt: skip

    new_tools = list(
        Tool.objects.filter(openrouter_slug__in=run.listed).values_list("slug", flat=True)
    )
    current: dict[str, Counter] = {}
    for slug, persona in Review.objects.filter(
        tool__slug__in=new_tools, is_current=True
    ).values_list("tool__slug", "persona_id"):
        current.setdefault(slug, Counter())[persona] += 1
    per_seat = Counter(
        Review.objects.filter(tool__slug__in=new_tools).values_list("seat_id", flat=True)
    )
    found.append(
        invariants.reviews_check(
            new_tools=new_tools, seats_per_tool={}, current=current, reviews_per_seat=per_seat,
            personas=Persona.objects.filter(active=True).count(),
        )
    )  # fmt: skip
    if len(new_tools) < len(run.listed):
        run.notes.append(f"{len(run.listed)} models listed, {len(new_tools)} became tools")

    now = timezone.now()
    tasks = [
        (path, status, worker_ids or [], run_after <= now)
        for path, status, worker_ids, run_after in DBTaskResult.objects.values_list(
            "task_path", "status", "worker_ids", "run_after"
        )
        if not (status == "READY" and path.endswith(".ingest_poll"))
    ]
    found += invariants.tasks_check(tasks=tasks, killed_workers=run.killed_workers)
    problems = read_json(run.out / "problems.json")
    found.append(invariants.errors_check(problems, run.windows))
    found.append(backup_verify(run, actions))
    return found


def backup_verify(run: Run, actions: list[invariants.Action]) -> invariants.Check:
    """Restore the mid-run backup into a fresh database and home; compare."""
    name = "backup restores everything accepted before it"
    if not run.backup:
        return invariants.Check(name, True, "no backup taken (run too short)", skipped=True)
    if not run.backup["ok"]:
        if "Unknown command" in run.backup["output"]:
            detail = "`shipwith backup` is not on this branch yet"
            return invariants.Check(name, True, detail, skipped=True)
        return invariants.Check(name, False, f"backup failed: {run.backup['output'][-300:]}")
    from django.db.models import Q

    from shipwith.newsletter.models import Subscriber
    from shipwith.panel.models import Review

    started = dt.datetime.fromtimestamp(run.backup["started"], dt.UTC)
    subscribers = set(
        Subscriber.objects.filter(created_at__lt=started).values_list("email", flat=True)
    )
    reviews = set(Review.objects.filter(Q(created_at__lt=started)).values_list("pk", flat=True))
    restored = stacks.Database(PG_URL, "restore")
    try:
        env = {**run.site.env, "DATABASE_URL": restored.url}
        env["SHIPWITH_HOME"] = str(run.site.tmp / "restored-home")
        result = subprocess.run(
            [*stacks.SHIPWITH, "restore", str(run.backup["path"])], env=env, cwd=run.site.tmp,
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        if result.returncode:
            return invariants.Check(name, False, f"restore failed: {result.stderr[-300:]}")
        votes = {
            (voter, slug): value
            for voter, slug, value in restored.query(
                "SELECT v.voter_id, t.slug, v.value FROM votes_vote v "
                "JOIN catalog_tool t ON t.id = v.tool_id"
            )
        }
        return invariants.backup_check(
            actions=actions,
            started=run.backup["started"],
            finished=run.backup["finished"],
            restored_votes=votes,
            subscribers=subscribers,
            restored_subscribers={
                e for (e,) in restored.query("SELECT email FROM newsletter_subscriber")
            },
            reviews=reviews,
            restored_reviews={pk for (pk,) in restored.query("SELECT id FROM panel_review")},
        )
    finally:
        restored.drop()


def _interrupt(signum, frame) -> None:
    """Ctrl-C or SIGTERM: stop everything (once; a second signal does not cut the cleanup)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> int:
    # Installed by hand: a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    load = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="shipwith-soak-"))
    out = tmp / "out"
    out.mkdir()
    db = stacks.Database(PG_URL, "run")
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "REDIS_URL": f"redis://127.0.0.1:{stacks.free_port()}/0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "SHIPWITH_HOME": str(tmp / "site" / "home"),
        "SHIPWITH_BASE_URL": f"http://127.0.0.1:{stacks.free_port()}",
        "SHIPWITH_SECRET_KEY": "soak-" + os.urandom(16).hex(),
        "SHIPWITH_TRUSTED_PROXIES": "127.0.0.1",
        "SHIPWITH_LLM": "openai:soak-model",
        "OPENAI_API_KEY": "soak",
        "EMAIL_HOST": "127.0.0.1",
        "SHIPWITH_INGEST_ALLOW_PRIVATE": "1",
        "SHIPWITH_INGEST_DEFAULTS": "0",
        "SHIPWITH_NEWSLETTER_SIGNUP_RATE": "1000000/m",
        "SHIPWITH_API_RATE": "1000000/m",
        "SHIPWITH_VOTES_RATE_IP": "1000000/m",
        "SHIPWITH_VOTES_RATE_VOTER": "100000/m",
        "SHIPWITH_VOTES_DAILY_CAP": "100000",
        "SHIPWITH_VOTES_NEW_VOTERS_PER_IP": "1000000",
        # A killed worker's seats are free, and its task requeued, within a minute.
        "SHIPWITH_PANEL_SEAT_LEASE": "30",
        "SHIPWITH_WORKER_BEAT": "5",
        "SHIPWITH_PANEL_SEAT_BACKOFF": "5",
        # A killed sender's deliveries are taken over when its task runs again (the default,
        # 900 s, outlasts the worker's lease: the rerun would find them still claimed).
        "SHIPWITH_NEWSLETTER_CLAIM_LEASE": "30",
    }
    status = 2
    model = mail = listing = None
    try:
        django_setup(env)
        import fakes  # lazy: the tests' servers it reuses import Django models

        model, mail = fakes.Model(), fakes.MailSink()
        listing = fakes.Listing(
            [
                fakes.model_record(f"soaklab/back-{n}", f"Soaklab: Back {n}", "Old.")
                for n in range(3)
            ]
        )
        env |= {
            "SHIPWITH_LLM_BASE_URL": model.base_url,
            "OPENAI_BASE_URL": model.base_url,
            "EMAIL_PORT": str(mail.port),
            "SHIPWITH_INGEST_ALLOWED_PORTS": str(listing.port),  # nothing else is ever fetched
        }
        os.environ.update(env)
        log(f"{tmp}: {SECONDS:.0f} s, {USERS} users, {SUBSCRIBERS} subscribers; load {load[0]:.1f}")
        holder: dict = {}
        with stacks.stack(
            tmp / "site", db=db, env=env,
            setup=lambda site: holder.update(plan=data_setup(site, listing, out / "plan.json")),
        ) as (site, url):  # fmt: skip
            plan = holder["plan"]
            run = Run(site, url, out, listing, mail, plan["issue"], plan, fakes=fakes)
            log(f"serving at {url}; Locust starts")
            drive(run)
            log("load over; draining the queue")
            drain(run)
            found = checks(run)
            table = report.render(
                run, found, seconds=SECONDS, users=USERS, load=(load, os.getloadavg()),
                model_calls=model.calls,
            )  # fmt: skip
            REPORT.write_text(table)
            print(table)
            status = 0 if all(check.ok for check in found) else 1
    except KeyboardInterrupt:
        log("interrupted: everything stopped")
        status = 130
    finally:
        for server in (model, mail, listing):
            if server is not None:
                server.stop()
        from django.db import connections  # lazy: set up above

        connections.close_all()
        db.drop()
        if status == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"logs kept in {tmp}")
    return status


if __name__ == "__main__":
    sys.exit(main())
