"""The soak's report: per kind of request (from Locust's stats), memory, faults, invariants."""

import csv
import time
from pathlib import Path


def _locust_rows(out: Path) -> list[dict]:
    path = out / "locust_stats.csv"
    if not path.exists():
        return []
    with path.open() as file:
        return list(csv.DictReader(file))


def _ms(value: str) -> str:
    try:
        return f"{float(value):,.0f}"
    except ValueError:
        return value or "—"


def render(run, found, *, seconds, users, load, model_calls) -> str:
    """One markdown report: the requests table, then memory, faults and the invariants."""
    before, after = load
    lines = [
        f"# Soak report ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"{seconds:.0f} s of load, {users} Locust users, two gunicorn app servers (2 workers x "
        "4 threads) behind the shipped nginx config, two `shipwith worker`s, PostgreSQL, "
        f"Redis; load average {before[0]:.1f} before, {after[0]:.1f} after.",
        "",
        "| request | requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in _locust_rows(run.out):
        count, failed = int(row["Request Count"]), int(row["Failure Count"])
        name = "**all**" if row["Name"] == "Aggregated" else row["Name"]
        share = f"{failed} ({failed / count:.2%})" if count else "0"
        lines.append(
            f"| {name} | {count:,} | {float(row['Requests/s']):.1f} | {_ms(row['50%'])} | "
            f"{_ms(row['95%'])} | {_ms(row['99%'])} | {share} |"
        )
    lines += [
        "",
        "| process | RSS at start (MB) | RSS at end (MB) | restarts |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, (start, end) in sorted(run.rss.items()):
        child = run.site.children.get(name)
        restarts = child.restarts if child else 0
        lines.append(f"| {name} | {start / 1024:.0f} | {end / 1024:.0f} | {restarts} |")
    lines += ["", "Faults (each window ends 10 s after the fault is over):", ""]
    for what, start, end in run.windows:
        lines.append(
            f"- {what} at +{start - run.load_started:.0f} s: over in {end - start - 10:.1f} s"
        )
    if run.backup:
        lines.append(
            f"- `shipwith backup` at +{run.backup['started'] - run.load_started:.0f} s: "
            f"{'taken' if run.backup['ok'] else 'FAILED'} in "
            f"{run.backup['finished'] - run.backup['started']:.1f} s"
        )
    lines.append(
        f"- catalog: {len(run.listed)} models listed by the autopublishing source, "
        f"{run.price_changes} price changes; model calls {dict(model_calls)}"
    )
    lines += ["", "| invariant | held | what was counted |", "| --- | --- | --- |"]
    for check in found:
        held = "skipped" if check.skipped else ("yes" if check.ok else "**NO**")
        lines.append(f"| {check.name} | {held} | {check.detail} |")
    if run.notes:
        lines += ["", *[f"Note: {note}" for note in run.notes]]
    return "\n".join(lines) + "\n"
