"""The production shape on loopback, started and torn down by the soak: a PostgreSQL database
of its own, a redis-server of its own, two gunicorn app servers behind the shipped nginx
config, two `shipwith worker` processes. Any one of them can be killed and started again.

Reused from the tests: gunicorn as `shipwith up` runs it (tests/votes/live.py), the shipped
nginx config filled in for this run (tests/deploy/nginx.py), port waits.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.deploy.nginx import free_port, nginx
from tests.votes.live import _gunicorn, _wait_ready, port_wait

ROOT = Path(__file__).resolve().parents[2]
SHIPWITH = [sys.executable, "-m", "shipwith"]


def rss_kb(pids: list[int]) -> int:
    """Resident memory of these processes together, in KB (0 for those gone)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def worker_id(child: "Child") -> str:
    """The task worker id of a `shipwith worker` child in its current life."""
    return f"soak-{child.name}-{child.restarts}"


def tree_pids(root: int) -> list[int]:
    """`root` and its children (gunicorn's and nginx's masters and their workers)."""
    pids = [root]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == root and fields[0] != "Z":
                pids.append(int(stat.parent.name))
    return pids


class Database:
    """A fresh PostgreSQL database on the server of `base` (trust auth), dropped at the end."""

    def __init__(self, base: str, label: str) -> None:
        server = base.rsplit("/", 1)[0]
        self.name = f"shipwith_soak_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.admin = server + "/postgres"
        self.url = f"{server}/{self.name}"
        with psycopg.connect(self.admin, autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{self.name}"')

    def query(self, sql: str, params=()) -> list[tuple]:
        with psycopg.connect(self.url) as db:
            cursor = db.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def allow_connections(self, allow: bool) -> None:
        """Let new connections in, or refuse them (those open stay), from the admin database."""
        with psycopg.connect(self.admin, autocommit=True) as db:
            db.execute(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS {str(allow).lower()}')

    def backend_pids(self) -> list[int]:
        with psycopg.connect(self.admin, autocommit=True) as db:
            rows = db.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.name,)
            ).fetchall()
        return [pid for (pid,) in rows]

    def drop(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as db:
            db.execute(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS true')
            db.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@dataclass
class Child:
    """One long-running process of the stack, which may be killed and started again."""

    name: str
    process: subprocess.Popen | None = None
    restarts: int = 0
    rss_start: int = 0

    def pids(self) -> list[int]:
        if self.process is None or self.process.poll() is not None:
            return []
        return tree_pids(self.process.pid)

    def kill(self) -> None:
        """SIGKILL the whole process group, as the OOM killer or a crash would end it."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class Stack:
    tmp: Path
    env: dict
    db: Database
    children: dict[str, Child] = field(default_factory=dict)
    redis_port: int = 0
    app_ports: list[int] = field(default_factory=list)
    nginx_pid: int = 0

    # -- starting ---------------------------------------------------------------------------

    def shipwith(self, *args: str, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
        """Run a `shipwith` command with the stack's environment; fail loudly."""
        result = subprocess.run(
            [*SHIPWITH, *args], env=self.env, cwd=self.tmp, capture_output=True, text=True,
            timeout=timeout, **kw,
        )  # fmt: skip
        if result.returncode:
            raise RuntimeError(f"shipwith {' '.join(args)}: {result.stderr[-3000:]}")
        return result

    def redis_start(self) -> None:
        child = self.children.setdefault("redis", Child("redis"))
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port)]
        command += ["--save", "", "--appendonly", "no"]
        child.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, process_group=0
        )
        port_wait(self.redis_port, child.process, "redis-server")

    def app_start(self, n: int) -> None:
        child = self.children.setdefault(f"gunicorn-{n}", Child(f"gunicorn-{n}"))
        port = self.app_ports[n]
        # tests/votes/live.py's gunicorn leads a session of its own: its group is its pid.
        child.process = _gunicorn(self.tmp, port, 2, self.env, n)
        _wait_ready(self.tmp, f"http://127.0.0.1:{port}", child.process, n)

    def worker_start(self, n: int) -> None:
        name = f"worker-{n}"
        child = self.children.setdefault(name, Child(name))
        # As `shipwith up` starts it, with an id that says which process ran a task.
        command = [*SHIPWITH, "worker", "--interval", "1", "--worker-id", worker_id(child)]
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - the child holds it open
        child.process = subprocess.Popen(
            command, env=self.env, cwd=self.tmp, stdout=log, stderr=log, process_group=0
        )

    def restart(self, name: str) -> None:
        child = self.children[name]
        child.restarts += 1
        if name == "redis":
            self.redis_start()
        elif name.startswith("gunicorn-"):
            self.app_start(int(name.split("-")[1]))
        else:
            self.worker_start(int(name.split("-")[1]))

    def stop(self) -> None:
        """Stop every child: SIGTERM, then SIGKILL to what is left after 10 s; reap all."""
        for child in self.children.values():
            if child.process is not None and child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in self.children.values():
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            child.kill()  # the group too: a gunicorn worker that outlived its master
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)


@contextlib.contextmanager
def stack(tmp: Path, *, db: Database, env: dict, setup):
    """Start the whole shape on `db` with `env` (its REDIS_URL names the port of the Redis
    started here); `setup(stack)` runs after migrate, before the servers start.

    Yields (stack, nginx URL). Every child is stopped on the way out, whatever happened
    (Ctrl-C included); dropping the database is the caller's.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    site = Stack(tmp, env, db, redis_port=int(env["REDIS_URL"].rsplit(":", 1)[1].split("/")[0]))
    site.app_ports = [free_port(), free_port()]
    nginx_port = int(env["SHIPWITH_BASE_URL"].rsplit(":", 1)[1])
    try:
        site.redis_start()
        site.shipwith("migrate", "-v0")
        site.shipwith("collectstatic", "--noinput", "-v0")
        setup(site)
        for n in range(2):
            site.app_start(n)
        for n in range(2):
            site.worker_start(n)
        upstreams = [f"127.0.0.1:{port}" for port in site.app_ports]
        with nginx(
            tmp / "nginx", upstreams=upstreams, static_dir=tmp / "home" / "static", port=nginx_port
        ) as url:
            site.nginx_pid = int((tmp / "nginx" / "nginx.pid").read_text())
            yield site, url
    finally:
        site.stop()
