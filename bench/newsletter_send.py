"""How fast `issue_send` renders digests and hands them to a local SMTP server.

Starts aiosmtpd (Sink handler) in its own process on loopback, then, for each list size in a
fresh process with its own SQLite (WAL) file: seeds subscribers with mixed category
preferences, sends a pre-rendered message N times over one raw smtplib connection (the
baseline: the server and protocol ceiling), then runs the real `issue_send` (plan deliveries,
claim, render per preference set, build MIME, send, record each outcome). Prints messages per
second, the ratio to the baseline, and peak memory growth during the send.

    .venv/bin/python bench/newsletter_send.py [--sizes 1000,10000]
"""

import argparse
import json
import os
import resource
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the SMTP sink did not start")


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(size: int):
    import datetime as dt

    from django.utils import timezone

    from shipwith.catalog.models import Category, Tool
    from shipwith.comparisons.models import Comparison
    from shipwith.newsletter.models import Subscriber
    from shipwith.newsletter.selectors import Week
    from shipwith.panel.models import Persona, Review

    week = Week.last_complete()
    categories = [
        Category.objects.get_or_create(slug=slug, defaults={"name": slug.replace("-", " ")})[0]
        for slug in ["inference-servers", "vector-databases", "coding-assistants"]
    ]
    persona = Persona.objects.first() or Persona.objects.create(
        key="skeptic", name="Skeptic", lens="x", priorities="x", deal_breakers="x", voice="x"
    )
    for c, category in enumerate(categories):
        tools = [
            Tool.objects.create(name=f"Tool {c}-{n}", slug=f"tool-{c}-{n}", category=category)
            for n in range(4)
        ]
        for n in range(0, 4, 2):
            Comparison.objects.create(
                tool_a=tools[n],
                tool_b=tools[n + 1],
                published_at=week.start + dt.timedelta(days=n + c),
                moderator_read="Which one ships? " * 12,
            )
        review = Review.objects.create(
            tool=tools[0],
            persona=persona,
            version=2,
            verdict="skip",
            previous_verdict="ship",
            take="Changed my mind.",
            confidence=3,
            prompt_version=1,
            model_id="m",
            provider="p",
        )
        Review.objects.filter(pk=review.pk).update(created_at=week.start + dt.timedelta(days=3))
    now = timezone.now()
    Subscriber.objects.bulk_create(
        [Subscriber(email=f"reader{n}@example.com", confirmed_at=now) for n in range(size)],
        batch_size=2000,
    )
    # Half want everything; the rest pick one or two categories: 7 distinct preference sets.
    through = Subscriber.categories.through
    links = []
    for n, pk in enumerate(Subscriber.objects.order_by("pk").values_list("pk", flat=True)):
        if n % 2:
            links.append(through(subscriber_id=pk, category_id=categories[n % 3].pk))
            if n % 5 == 1:
                links.append(through(subscriber_id=pk, category_id=categories[(n + 1) % 3].pk))
    through.objects.bulk_create(links, batch_size=5000)
    return week


def child(size: int, port: int) -> dict:
    tmp = tempfile.mkdtemp(prefix="bench-newsletter-")
    os.environ.update(
        DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
        SHIPWITH_HOME=tmp,
        SHIPWITH_SECRET_KEY="bench",
        SHIPWITH_BASE_URL="https://shipwith.example",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        EMAIL_USE_TLS="",
        DJANGO_SETTINGS_MODULE="shipwith.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from shipwith.newsletter.digest import DigestCache, digest_message, digest_render
    from shipwith.newsletter.issues import issue_compose
    from shipwith.newsletter.sending import issue_send

    week = seed(size)
    issue = issue_compose(week=week)

    # Baseline: one pre-rendered message, raw smtplib, one connection.
    digest = DigestCache(items=issue.items, week_slug=issue.slug).get(frozenset())
    payload = (
        digest_message(
            digest=digest, to="x@example.com", unsubscribe_url="https://u/", message_key="k"
        )
        .message()
        .as_bytes(linesep="\r\n")
    )
    smtp = smtplib.SMTP("127.0.0.1", port)
    started, cpu = time.perf_counter(), time.process_time()
    sample = min(size, 3000)  # enough for a steady rate; keeps the run short
    for n in range(sample):
        smtp.sendmail("verdicts@shipwith.example", [f"reader{n}@example.com"], payload)
    baseline = sample / (time.perf_counter() - started)
    baseline_cpu_ms = (time.process_time() - cpu) * 1000 / sample
    smtp.quit()

    # What a render costs when nothing is shared (each reader's own categories rendered anew).
    started = time.perf_counter()
    renders = 100
    for _ in range(renders):
        digest_render(items=issue.items, week_slug=issue.slug, category_slugs=frozenset())
    render_rate = renders / (time.perf_counter() - started)

    rss_before = maxrss_mb()
    profile = os.environ.get("BENCH_PROFILE")
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    report = issue_send(issue_id=issue.pk)
    elapsed = time.perf_counter() - started
    cpu_ms = (time.process_time() - cpu) * 1000 / size
    rss_growth = maxrss_mb() - rss_before
    if profile:
        profiler.disable()
        profiler.dump_stats(profile)
    assert report.sent + report.skipped == size, report

    # Python-level peak of a second send of the same list (a new issue), under tracemalloc.
    from shipwith.newsletter.models import Issue

    again = Issue.objects.create(
        slug="2000-w01",
        week_start=issue.week_start.replace(year=2000),
        week_end=issue.week_end,
        items=issue.items,
    )
    tracemalloc.start()
    issue_send(issue_id=again.pk)
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {
        "size": size,
        "sent": report.sent,
        "seconds": round(elapsed, 2),
        "rate": round(size / elapsed),
        "baseline_rate": round(baseline),
        "render_rate": round(render_rate),
        "cpu_ms": round(cpu_ms, 2),
        "baseline_cpu_ms": round(baseline_cpu_ms, 2),
        "load": round(os.getloadavg()[0], 1),
        "rss_growth_mb": round(rss_growth, 1),
        "traced_peak_mb": round(traced_peak, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--child", type=int)
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.port)))
        return

    port = free_port()
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        results = []
        for size in [int(s) for s in args.sizes.split(",")]:
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(size), "--port", str(port)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        sink.terminate()
        sink.wait(10)

    print(
        f"{'readers':>8} {'issue_send/s':>13} {'raw smtplib/s':>14} {'ratio':>6} "
        f"{'CPU ms/msg':>11} {'raw CPU ms':>11} {'render/s':>9} {'RSS growth':>11} "
        f"{'traced peak':>12} {'load':>5}"
    )
    for r in results:
        print(
            f"{r['size']:>8} {r['rate']:>13} {r['baseline_rate']:>14} "
            f"{r['rate'] / r['baseline_rate']:>6.2f} {r['cpu_ms']:>11.2f} "
            f"{r['baseline_cpu_ms']:>11.2f} {r['render_rate']:>9} "
            f"{r['rss_growth_mb']:>9.1f}MB {r['traced_peak_mb']:>10.1f}MB {r['load']:>5}"
        )
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(
            f"memory, {large['size']} vs {small['size']} readers: traced peak x"
            f"{large['traced_peak_mb'] / max(small['traced_peak_mb'], 0.1):.2f}, "
            f"RSS growth {small['rss_growth_mb']}MB -> {large['rss_growth_mb']}MB"
        )
    last = results[-1]
    verdict = "met" if last["rate"] >= 300 else "MISSED"
    print(f"goal >= 300 messages/s at {last['size']} readers: {verdict} ({last['rate']}/s)")


if __name__ == "__main__":
    main()
