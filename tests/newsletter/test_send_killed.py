"""kill -9 a real `shipwith newsletter send` half-way, resume it: nobody gets the issue twice."""

import asyncio
import email
import email.policy
import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller

from .conftest import SEED, free_port

SUBSCRIBERS = 20
KILL_AFTER = 8
LEASE = 2


class SlowServer:
    """Records each message as soon as its body arrives; holds its 250 for the KILL_AFTER-th."""

    def __init__(self):
        self.recipients: list[str] = []
        self.messages = []
        self.arrived = threading.Condition()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)
            self.recipients.extend(envelope.rcpt_tos)
            hold = len(self.recipients) == KILL_AFTER
            self.arrived.notify_all()
        if hold:
            # The body is in; the sender waits for our answer until the test has killed it.
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return "250 OK"


@pytest.fixture
def slow_smtp():
    handler = SlowServer()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    yield handler
    handler.release.set()
    controller.stop()


def shipwith(env, *args, **kwargs) -> subprocess.CompletedProcess | subprocess.Popen:
    command = [sys.executable, "-m", "shipwith", *args]
    if kwargs.pop("background", False):
        return subprocess.Popen(command, env=env, cwd=env["SHIPWITH_HOME"], **kwargs)
    return subprocess.run(
        command, env=env, cwd=env["SHIPWITH_HOME"], capture_output=True, text=True, check=True
    )


def test_killed_send_resumes_and_delivers_each_subscriber_exactly_once(tmp_path, slow_smtp):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shipwith.sqlite3'}",
        "SHIPWITH_HOME": str(tmp_path),
        "SHIPWITH_SECRET_KEY": "kill-test",
        "SHIPWITH_BASE_URL": "https://shipwith.test",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(slow_smtp.port),
        "EMAIL_USE_TLS": "",
        "SHIPWITH_NEWSLETTER_CLAIM_LEASE": str(LEASE),
    }
    shipwith(env, "migrate", "-v0")
    seed = SEED.format(count=SUBSCRIBERS)
    slug = shipwith(env, "shell", "-v0", "-c", seed).stdout.strip().splitlines()[-1]

    sender = shipwith(
        env,
        "newsletter",
        "send",
        "--week",
        slug,
        background=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with slow_smtp.arrived:
        # The KILL_AFTER-th body has arrived and its 250 is held back: the sender is exactly
        # between "the server has the message" and "the database says sent".
        deadline = time.monotonic() + 60
        while len(slow_smtp.recipients) < KILL_AFTER and sender.poll() is None:
            assert time.monotonic() < deadline, "the sender never got going"
            slow_smtp.arrived.wait(0.05)
        sender.kill()
    sender.wait(10)
    slow_smtp.release.set()
    assert sender.returncode == -9, sender.communicate()
    assert len(slow_smtp.recipients) == KILL_AFTER

    time.sleep(LEASE + 0.5)  # a dead sender is one whose lease ran out, on any host
    resumed = shipwith(env, "newsletter", "send", "--week", slug)
    assert "in doubt 1 (never resent)" in resumed.stdout
    assert f"sent {SUBSCRIBERS - KILL_AFTER}," in resumed.stdout

    counts = Counter(slow_smtp.recipients)
    assert sorted(counts) == [f"reader{n:02d}@example.com" for n in range(SUBSCRIBERS)]
    assert set(counts.values()) == {1}
    assert all(message.get_body(("html",)) for message in slow_smtp.messages)

    again = shipwith(env, "newsletter", "send", "--week", slug)
    assert "sent 0," in again.stdout
    assert len(slow_smtp.recipients) == SUBSCRIBERS
