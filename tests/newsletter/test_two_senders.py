"""Two real `shipwith newsletter send` processes on one issue: nobody is mailed twice.

The lease is what decides whether a claim is alive, the same way from any host: a sender that
keeps working renews it and is left alone; one that goes quiet (here frozen with SIGSTOP,
alive as far as any PID check can tell) is taken over, and when it wakes it stops.
"""

import asyncio
import email
import email.policy
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiosmtpd.controller import Controller

from .conftest import SEED, free_port

LEASE = 2


class PacedServer:
    """Takes `delay` seconds over each message; can hold back the 250 of the n-th one."""

    def __init__(self, delay: float, hold: int = 0):
        self.delay, self.hold = delay, hold
        self.recipients: list[str] = []
        self.arrived = threading.Condition()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.recipients.extend(envelope.rcpt_tos)
            held = len(self.recipients) == self.hold
            self.arrived.notify_all()
        if held:
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        await asyncio.sleep(self.delay)
        return "250 OK"

    def wait_for(self, count: int, *processes) -> None:
        deadline = time.monotonic() + 60
        with self.arrived:
            while len(self.recipients) < count:
                assert time.monotonic() < deadline, "the senders never got that far"
                assert all(p.poll() is None for p in processes), "a sender stopped early"
                self.arrived.wait(0.05)


def _postgres(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(
        urlunsplit(urlsplit(url)._replace(path="/postgres")), autocommit=True
    ) as db:
        for statement in statements:
            db.execute(statement)


def _named(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A migrated database of the test run's kind, copied for each test (migrating is slow)."""
    url = os.environ.get("DATABASE_URL", "")
    home = tmp_path_factory.mktemp("two-senders")
    if url.startswith("postgres"):
        template = f"{urlsplit(url).path.lstrip('/') or 'shipwith'}_two_senders"
        _postgres(url, f'DROP DATABASE IF EXISTS "{template}"', f'CREATE DATABASE "{template}"')
        target = _named(url, template)
    else:
        template, target = home / "template.sqlite3", f"sqlite:///{home / 'template.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": target, "SHIPWITH_HOME": str(home)}
    env["SHIPWITH_SECRET_KEY"] = "two-senders-test"
    subprocess.run([sys.executable, "-m", "shipwith", "migrate", "-v0"], env=env, check=True)
    yield url, template
    if url.startswith("postgres"):
        _postgres(url, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')


@pytest.fixture
def database(tmp_path, migrated):
    """This test's own copy of the migrated database, shared by its sender processes."""
    url, template = migrated
    if not url.startswith("postgres"):
        shutil.copy(template, tmp_path / "shipwith.sqlite3")
        yield f"sqlite:///{tmp_path / 'shipwith.sqlite3'}"
        return
    name = f"{template}_{tmp_path.name[-20:]}".replace("-", "_").lower()
    _postgres(
        url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{template}"'
    )
    yield _named(url, name)
    _postgres(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server(handler) -> Controller:
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    return controller


def environment(tmp_path, database, port: int, batch: int, lease: int = LEASE) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database,
        "SHIPWITH_HOME": str(tmp_path),
        "SHIPWITH_SECRET_KEY": "two-senders-test",
        "SHIPWITH_BASE_URL": "https://shipwith.test",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "",
        "SHIPWITH_NEWSLETTER_CLAIM_LEASE": str(lease),
        "SHIPWITH_NEWSLETTER_BATCH_SIZE": str(batch),
    }


def seed(env, count: int) -> str:
    run = [sys.executable, "-m", "shipwith"]
    kwargs = {"env": env, "cwd": env["SHIPWITH_HOME"], "capture_output": True, "text": True}
    code = SEED.format(count=count)
    out = subprocess.run([*run, "shell", "-v0", "-c", code], check=True, **kwargs).stdout
    return out.strip().splitlines()[-1]


def sender(env, slug: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "shipwith", "newsletter", "send", "--week", slug],
        env=env,
        cwd=env["SHIPWITH_HOME"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> tuple[int, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out + err


def assert_each_reader_once(recipients: list[str], count: int) -> None:
    counts = Counter(recipients)
    assert sorted(counts) == [f"reader{n:02d}@example.com" for n in range(count)]
    assert set(counts.values()) == {1}, [r for r, c in counts.items() if c > 1]


def sent(output: str) -> int:
    return int(output.split("sent ")[1].split(",")[0])


def assert_clean_runs(results: list[tuple[int, str]], count: int) -> None:
    """Every run finished, none was unsure of a message, and together they sent to all."""
    for code, output in results:
        assert code == 0, output
        assert "in doubt 0 " in output, output
    assert sum(sent(output) for _, output in results) == count


def test_two_senders_started_together_share_the_readers(tmp_path, database):
    count = 32
    # Whichever sender mails first is held at its first 250 until the other has a message in
    # too, however much later its process got going; the lease outlasts that wait.
    handler = PacedServer(delay=0.05, hold=1)
    controller = start_server(handler)
    try:
        env = environment(tmp_path, database, handler.port, batch=8, lease=60)
        slug = seed(env, count)
        processes = [sender(env, slug), sender(env, slug)]
        handler.wait_for(2, *processes)
        handler.release.set()
        results = [finish(process) for process in processes]
    finally:
        controller.stop()
    assert_clean_runs(results, count)
    assert all(sent(output) > 0 for _, output in results), results
    assert_each_reader_once(handler.recipients, count)


def test_a_sender_that_keeps_working_renews_its_lease_and_is_left_alone(tmp_path, database):
    count, batch = 24, 16
    handler = PacedServer(delay=0.25)
    controller = start_server(handler)
    try:
        env = environment(tmp_path, database, handler.port, batch=batch)
        slug = seed(env, count)
        first = sender(env, slug)
        # Its first batch (16 × 0.25 s) outlasts the 2 s lease: 10 messages in, the claim is
        # older than the lease and only its renewal keeps the second sender off it.
        handler.wait_for(10, first)
        second = sender(env, slug)
        results = [finish(first), finish(second)]
    finally:
        controller.stop()
    assert_clean_runs(results, count)
    assert_each_reader_once(handler.recipients, count)


def test_a_frozen_sender_is_taken_over_and_stops_when_it_wakes(tmp_path, database):
    count, frozen_at = 12, 4
    handler = PacedServer(delay=0.0, hold=frozen_at)
    controller = start_server(handler)
    try:
        env = environment(tmp_path, database, handler.port, batch=200)
        slug = seed(env, count)
        stalled = sender(env, slug)
        handler.wait_for(frozen_at, stalled)
        # The 4th body is in and its 250 held back: freeze the sender there, as a paused VM
        # or a partitioned host would be. Its process is alive; only its lease can tell.
        os.kill(stalled.pid, signal.SIGSTOP)
        try:
            handler.release.set()
            time.sleep(LEASE + 1)
            code, taken_over = finish(sender(env, slug))
            assert code == 0, taken_over
            assert "in doubt 1 (never resent)" in taken_over
            assert f"sent {count - frozen_at}," in taken_over
        finally:
            os.kill(stalled.pid, signal.SIGCONT)
        code, woken = finish(stalled)
    finally:
        controller.stop()
    assert code != 0
    assert "another took over" in woken, woken
    assert_each_reader_once(handler.recipients, count)
