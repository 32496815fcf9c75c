"""The child processes of `shipwith up` (task worker, web server): started and stopped whole.

Each child leads a process group of its own, so a signal reaches everything it started
(gunicorn's workers, a reloader's child) and a terminal's Ctrl-C reaches `up` alone, which
stops the children in order:

1. SIGTERM to every group: gunicorn and the task worker finish what they are doing;
2. after STOP_GRACE seconds, SIGINT, the "Ctrl-C again" both understand: gunicorn drops
   what is left, the worker (`shipwith worker`) interrupts its task, whose cleanup runs (a
   panel run gives its seats back), and puts it back in the queue for the next worker;
3. after STOP_DEADLINE seconds, SIGKILL to the groups still alive; every child is reaped.
   A killed worker's task goes back to the queue once it has missed its beats for
   SHIPWITH_WORKER_LEASE (core/workers.py), when its panel run's seats are free again too.

`hurry()` (a second Ctrl-C or SIGTERM to `up`) skips to step 3 at once. On Linux a child is
also sent SIGKILL by the kernel when `up` dies without stopping it (SIGKILL, a crash):
PR_SET_PDEATHSIG, set between fork and exec. That covers the children `up` started, not
processes they start themselves (gunicorn's workers leave when they see their arbiter gone).
"""

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

STOP_GRACE = 5.0
STOP_DEADLINE = 10.0
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _prctl() -> Callable | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Looked up here, not in the forked child, where loading a library is not safe.
_PRCTL = _prctl()


def _die_with(parent: int) -> Callable[[], None] | None:
    if _PRCTL is None:
        return None

    def die_with_parent() -> None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the request was in place
            os.kill(os.getpid(), signal.SIGKILL)

    return die_with_parent


def child_start(command: list[str]) -> subprocess.Popen:
    """Start a child in a process group of its own that dies with this process."""
    return subprocess.Popen(command, process_group=0, preexec_fn=_die_with(os.getpid()))


class Children:
    """The children of one `up`, stopped together; `hurry()` may be called from a handler."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []
        self.stopping = False
        self._hurry = False

    def start(self, command: list[str]) -> subprocess.Popen:
        process = child_start(command)
        self.processes.append(process)
        return process

    def hurry(self) -> None:
        self._hurry = True

    def alive(self) -> list[subprocess.Popen]:
        return [process for process in self.processes if process.poll() is None]

    def stop(self) -> list[subprocess.Popen]:
        """Stop every child within STOP_DEADLINE seconds; return those that had to be killed."""
        self.stopping = True
        started = time.monotonic()
        self._signal(signal.SIGTERM)
        self._wait_until(started + STOP_GRACE)
        self._signal(signal.SIGINT)
        self._wait_until(started + STOP_DEADLINE)
        killed = self.alive()
        self._signal(signal.SIGKILL)
        for process in self.processes:
            process.wait()
        return killed

    def _wait_until(self, deadline: float) -> None:
        while self.alive() and not self._hurry and time.monotonic() < deadline:
            time.sleep(0.1)

    def _signal(self, signum: int) -> None:
        for process in self.processes:
            # Its group may outlive it (a gunicorn worker): signal the group while it has one.
            try:
                os.killpg(process.pid, signum)
            except (ProcessLookupError, PermissionError):
                pass
