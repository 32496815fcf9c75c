"""A real shipwith server (gunicorn, several processes) on its own database, for tests and bench.

The database is a fresh SQLite file, or a fresh PostgreSQL database on the server named by
DATABASE_URL when that is PostgreSQL; both are unique to the run, so parallel runs never meet.
"""

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
TOOLS_YAML = """\
categories:
  - slug: live-category
    name: Live category
tools:
{tools}
"""


@dataclass
class LiveSite:
    url: str
    database_url: str
    pid: int = 0

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes (gunicorn's master and workers)."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if self.pid in (pid, ppid):
                total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
        return total / os.sysconf("SC_CLK_TCK")

    def query(self, sql: str) -> list[tuple]:
        """Run one statement on the site's database (committed) and return its rows."""
        if self.database_url.startswith("sqlite"):
            path = self.database_url.removeprefix("sqlite:///")
            with contextlib.closing(sqlite3.connect(path)) as db, db:
                return db.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.database_url) as db:
            cursor = db.execute(sql)
            return cursor.fetchall() if cursor.description else []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _database(tmp: Path, base: str) -> Iterator[str]:
    if not base.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp / 'live.sqlite3'}"
        return
    import psycopg

    name = f"shipwith_votes_live_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def live_site(
    tmp: Path,
    *,
    tools: int = 3,
    workers: int = 2,
    env: dict | None = None,
    database: str | None = None,
):
    """Migrate a fresh database, load `tools` tools (tool-0 …), serve it; yield a LiveSite.

    `database` is "sqlite" or a PostgreSQL URL; by default the engine of DATABASE_URL.
    """
    base = os.environ.get("DATABASE_URL", "") if database is None else database
    with _database(tmp, base) as database_url:
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SHIPWITH_HOME": str(tmp / "home"),
            "SHIPWITH_SECRET_KEY": "live-test-" + uuid.uuid4().hex,
            "SHIPWITH_VOTES_RATE_IP": "1000000/m",
            "SHIPWITH_VOTES_RATE_VOTER": "100000/m",
            "SHIPWITH_VOTES_DAILY_CAP": "100000",
            **(env or {}),
        }
        shipwith = [sys.executable, "-m", "shipwith"]
        subprocess.run([*shipwith, "migrate", "-v0"], env=environment, check=True, cwd=tmp)
        listing = "\n".join(
            f"  - {{name: Tool {n}, slug: tool-{n}, category: live-category}}" for n in range(tools)
        )
        catalog = tmp / "catalog.yaml"
        catalog.write_text(TOOLS_YAML.format(tools=listing))
        subprocess.run(
            [*shipwith, "catalog", "import", str(catalog)],
            env=environment,
            check=True,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
        )
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "shipwith.wsgi",
                "--config",
                "python:shipwith.web.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "/dev/null",
                "--error-logfile",
                str(tmp / "gunicorn.log"),
            ],
            env=environment,
            cwd=ROOT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + "/tools/tool-0/vote/", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError((tmp / "gunicorn.log").read_text()[-3000:])
                time.sleep(0.2)
            yield LiveSite(url, database_url, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=20)


def csrf_token(client: httpx.Client, url: str) -> str:
    """Load a vote page once: the CSRF cookie lands in the client, the token is returned."""
    page = client.get(url)
    return page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
