"""A real shipwith server (gunicorn, several processes) on its own database, for tests and bench.

The database is a fresh SQLite file, or a fresh PostgreSQL database on the server named by
DATABASE_URL when that is PostgreSQL; both are unique to the run, so parallel runs never meet.
"""

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
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


def processes_cpu_seconds(pids: list[int]) -> float:
    """CPU time used so far by these processes and their children (user + system, /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid in pids or ppid in pids:
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class LiveSite:
    url: str
    database_url: str
    pid: int = 0
    urls: list[str] = field(default_factory=list)  # every app server (`url` is the first)
    pids: list[int] = field(default_factory=list)
    env: dict = field(default_factory=dict)  # the environment the servers run with

    def cpu_seconds(self) -> float:
        """CPU time used so far by the servers' processes (gunicorn's masters and workers)."""
        return processes_cpu_seconds(self.pids)

    def shell(self, code: str) -> str:
        """Run Python in `shipwith shell` on the site's database; return what it printed."""
        command = [sys.executable, "-m", "shipwith", "shell", "-c", code]
        result = subprocess.run(
            command, env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

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


def _gunicorn(tmp: Path, port: int, workers: int, environment: dict, n: int):
    command = [
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
        str(tmp / f"gunicorn-{n}.log"),
        "--graceful-timeout",
        "5",
    ]
    # Its own process group, so teardown can make sure no worker outlives the test.
    return subprocess.Popen(command, env=environment, cwd=ROOT, start_new_session=True)


def _wait_ready(tmp: Path, url: str, server: subprocess.Popen, n: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/tools/tool-0/vote/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError((tmp / f"gunicorn-{n}.log").read_text()[-3000:])
        time.sleep(0.2)


@contextlib.contextmanager
def live_site(
    tmp: Path,
    *,
    tools: int = 3,
    workers: int = 2,
    servers: int = 1,
    task_workers: int = 0,
    static: bool = False,
    env: dict | None = None,
    database: str | None = None,
):
    """Migrate a fresh database, load `tools` tools (tool-0 …), serve it; yield a LiveSite.

    `servers` gunicorn app servers (of `workers` processes each) share the database, and
    `task_workers` `db_worker` processes run its tasks; `static` collects the static files
    into SHIPWITH_HOME/static (for nginx). `database` is "sqlite" or a PostgreSQL URL; by
    default the engine of DATABASE_URL.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    base = os.environ.get("DATABASE_URL", "") if database is None else database
    with _database(tmp, base) as database_url:
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            # Every process runs this checkout's code, whatever else is installed.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "SHIPWITH_HOME": str(tmp / "home"),
            "SHIPWITH_SECRET_KEY": "live-test-" + uuid.uuid4().hex,
            "SHIPWITH_VOTES_RATE_IP": "1000000/m",
            "SHIPWITH_VOTES_RATE_VOTER": "100000/m",
            "SHIPWITH_VOTES_DAILY_CAP": "100000",
            "SHIPWITH_VOTES_NEW_VOTERS_PER_IP": "1000000",
            **(env or {}),
        }
        shipwith = [sys.executable, "-m", "shipwith"]
        subprocess.run([*shipwith, "migrate", "-v0"], env=environment, check=True, cwd=tmp)
        if static:
            command = [*shipwith, "collectstatic", "--noinput", "-v0"]
            subprocess.run(command, env=environment, check=True, cwd=tmp)
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
        processes, pids = [], []
        try:
            urls = []
            for n in range(servers):
                port = _free_port()
                processes.append(_gunicorn(tmp, port, workers, environment, n))
                urls.append(f"http://127.0.0.1:{port}")
            for n, (url, server) in enumerate(zip(urls, processes, strict=True)):
                _wait_ready(tmp, url, server, n)
            pids = [server.pid for server in processes]
            for n in range(task_workers):
                log = open(tmp / f"worker-{n}.log", "wb")  # noqa: SIM115 (closed with the process)
                command = [*shipwith, "db_worker", "--interval", "0.2"]
                worker = subprocess.Popen(command, env=environment, cwd=tmp, stdout=log, stderr=log)
                processes.append(worker)
            yield LiveSite(urls[0], database_url, pids[0], urls, pids, environment)
        finally:
            for process in processes:
                process.terminate()  # gunicorn: graceful, then its workers are killed after 5 s
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for pid in pids:  # a worker stuck past its master's shutdown
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)


def port_wait(port: int, server: subprocess.Popen, name: str, seconds: float = 10) -> None:
    """Wait until `server` listens on the loopback `port`; fail if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        if server.poll() is not None or time.monotonic() > deadline:
            stderr = server.stderr.read().decode() if server.stderr else ""
            raise RuntimeError(f"{name} did not start on port {port}: {stderr}")
        time.sleep(0.05)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (Debian's redis-server package)."""
    port = _free_port()
    command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        port_wait(port, server, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def csrf_token(client: httpx.Client, url: str) -> str:
    """Load a vote page once: the CSRF cookie lands in the client, the token is returned."""
    page = client.get(url)
    return page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
