"""Votes per second through HTTP with 64 concurrent readers, with zero lost or doubled votes.

Starts gunicorn (shipwith's gunicorn settings) on a fresh database, SQLite then PostgreSQL,
and drives it from an asyncio load generator on loopback: 64 keep-alive connections, each a
reader with its own voter cookie, posting as a browser does from a cached page (no CSRF token;
`Sec-Fetch-Site: same-origin`), voting ship/skip round the tools (the first round inserts
votes, later rounds change them). The shared rate limits are in the path (counted in the
database, or in Redis with --cache redis). Baseline in the same run and on the same server: a
bare Django view (same middleware) doing one INSERT. Afterwards every vote row and every tally
is checked against the responses the readers got. Goal: server CPU per vote ≤ 1.5× the
baseline's, on the form path and on the fetch + JSON path.

    .venv/bin/python bench/votes_http.py [--seconds 8] [--workers 3] [--pg URL | --no-pg]
                                         [--no-sqlite]
"""

import argparse
import asyncio
import contextlib
import functools
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.votes.live import live_site, redis_server  # noqa: E402

CLIENTS = 64
TOOLS = 50


class Connection:
    """One keep-alive HTTP/1.1 connection with its own cookies."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: bytes = b"", accept: str = "text/html"):
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: {accept}\r\n"
            f"Sec-Fetch-Site: same-origin\r\nCookie: {cookie}\r\nContent-Length: {len(body)}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.lower()
            if name == "content-length":
                length = int(value)
            elif name == "set-cookie":
                key, _, rest = value.strip().partition("=")
                self.cookies[key] = rest.split(";")[0]
        content = await self.reader.readexactly(length) if length else b""
        return status, content

    def close(self) -> None:
        self.writer.close()


async def reader_session(host, port, n, stop_at, *, accepted, json: bool):
    connection = Connection(host, port)
    await connection.open()
    accept = "application/json" if json else "text/html"
    success = 200 if json else 302
    # The first vote creates the voter (and its cookie) before the clock starts.
    await connection.request("POST", "/tools/tool-0/vote/", b"value=ship", accept)
    voter = int(connection.cookies["shipwith_voter"].strip('"').split(":")[0])
    accepted.append((voter, "tool-0", "ship"))
    count, errors, step = 0, 0, n
    while time.perf_counter() < stop_at:
        step += 1
        tool = f"tool-{step % TOOLS}"
        value = "ship" if (step // TOOLS + n) % 2 else "skip"
        body = f"value={value}".encode()
        status, _ = await connection.request("POST", f"/tools/{tool}/vote/", body, accept)
        if status == success:
            accepted.append((voter, tool, value))
            count += 1
        else:
            errors += 1
    connection.close()
    return count, errors


async def baseline_session(host, port, n, stop_at):
    connection = Connection(host, port)
    await connection.open()
    count = errors = 0
    while time.perf_counter() < stop_at:
        body = f"voter={n}&tool=tool-{count % TOOLS}&value=ship".encode()
        status, _ = await connection.request("POST", "/bench/one-insert/", body)
        count, errors = (count + 1, errors) if status == 200 else (count, errors + 1)
    connection.close()
    return count, errors


async def drive(make, seconds: float):
    # Every connection is opened and set up first; the clock starts for all at once.
    started = time.perf_counter() + 2.0
    stop_at = started + seconds
    results = await asyncio.gather(*(make(n, stop_at) for n in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    return sum(r[0] for r in results), sum(r[1] for r in results), elapsed


def check(site, accepted) -> tuple[int, int]:
    """Compare the database with the accepted responses: (lost or wrong rows, extra rows)."""
    final = {}
    for voter, tool, value in accepted:  # each reader's responses arrive in order
        final[voter, tool] = value
    stored = {
        (voter, tool): value
        for voter, tool, value in site.query(
            "SELECT v.voter_id, t.slug, v.value FROM votes_vote v "
            "JOIN catalog_tool t ON t.id = v.tool_id"
        )
    }
    lost = sum(stored.get(key) != value for key, value in final.items())
    extra = len(set(stored) - set(final))
    expected = Counter((tool, value) for (_, tool), value in final.items())
    for tool, ships, skips in site.query(
        "SELECT t.slug, x.ships, x.skips FROM votes_tooltally x "
        "JOIN catalog_tool t ON t.id = x.tool_id"
    ):
        if (ships, skips) != (expected[tool, "ship"], expected[tool, "skip"]):
            lost += 1
    return lost, extra


def run(label: str, database: str, seconds: float, workers: int, cache: str) -> None:
    extra = {}
    with contextlib.ExitStack() as stack:
        if cache == "redis":
            extra["REDIS_URL"] = stack.enter_context(redis_server())
        _run(label, database, seconds, workers, cache, extra)


def _run(label, database, seconds, workers, cache, extra) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        live_site(
            Path(tmp),
            tools=TOOLS,
            workers=workers,
            database=database,
            env={
                "DJANGO_SETTINGS_MODULE": "bench.votes_settings",
                "PYTHONPATH": str(ROOT),
                "BENCH_VOTES_CACHE": cache,
                **extra,
            },
        ) as site,
    ):
        site.query(
            "CREATE TABLE bench_votes_baseline "
            "(voter varchar(40), tool varchar(40), value varchar(8))"
        )
        host, port = "127.0.0.1", int(site.url.rsplit(":", 1)[1])
        baseline_run = functools.partial(baseline_session, host, port)
        cpu = site.cpu_seconds()
        base, base_errors, base_elapsed = asyncio.run(drive(baseline_run, seconds))
        base_cpu = (site.cpu_seconds() - cpu) / base * 1000
        stored = site.query("SELECT COUNT(*) FROM bench_votes_baseline")[0][0]
        baseline = base / base_elapsed
        print(
            f"[{label}] baseline (bare view, one INSERT): {baseline:,.0f} req/s, "
            f"{base_cpu:.2f} ms server CPU each; {base_errors} errors, "
            f"{stored - base} rows unaccounted"
        )
        accepted: list = []  # both phases: the second phase's readers are new voters
        for json in (False, True):
            session = functools.partial(reader_session, host, port, accepted=accepted, json=json)
            cpu = site.cpu_seconds()
            votes, errors, elapsed = asyncio.run(drive(session, seconds))
            # Each reader's first vote (it mints the voter) falls in the same CPU window.
            vote_cpu = (site.cpu_seconds() - cpu) / (votes + CLIENTS) * 1000
            lost, extra = check(site, accepted)
            rate = votes / elapsed
            path = "fetch + JSON widget" if json else "form POST + redirect"
            print(
                f"[{label}] votes ({path}): {rate:,.0f} votes/s = {rate / baseline:.2f}× baseline, "
                f"{vote_cpu:.2f} ms server CPU each ({vote_cpu / base_cpu:.1f}× baseline); "
                f"{votes:,} accepted, {errors} refused, {lost} lost or wrong, {extra} extra"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--cache",
        default="",
        choices=["", "locmem", "redis"],
        help="locmem: page-freshness stamps in memory, not files; redis: the at-scale setup",
    )
    args = parser.parse_args()
    print(
        f"{CLIENTS} concurrent readers, {TOOLS} tools, gunicorn {args.workers} workers (gthread), "
        f"cache: {args.cache or 'default (files without REDIS_URL)'}"
    )
    if not args.no_sqlite:
        run("SQLite", "sqlite", args.seconds, args.workers, args.cache)
    if not args.no_pg:
        run("PostgreSQL", args.pg, args.seconds, args.workers, args.cache)


if __name__ == "__main__":
    main()
