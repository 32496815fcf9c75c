"""One SQLite writer at a time, across threads and processes, queued in the kernel.

SQLite lets one connection write at a time; the others spin in its busy handler, which sleeps
in steps of up to 100 ms and so wastes most turns of the lock when many gunicorn threads vote
at once. Queued on a lock file (`flock`) instead, the next writer wakes the moment the last one
commits. PostgreSQL needs none of this: row locks order the writers.
"""

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

from django.db import connection

_thread_lock = threading.Lock()  # flock does not exclude threads sharing one open file
_lock_files: dict[tuple[int, str], int] = {}


def _lock_file(database: str) -> int | None:
    if not database or database == ":memory:" or "mode=memory" in database:
        return None  # an in-memory database lives in one process: the thread lock is enough
    key = (os.getpid(), database)  # a fork must not share its parent's open file
    if key not in _lock_files:
        _lock_files[key] = os.open(f"{database}.votes-lock", os.O_RDWR | os.O_CREAT, 0o600)
    return _lock_files[key]


@contextlib.contextmanager
def sqlite_writer() -> Iterator[None]:
    """Hold the write turn for the duration of the block (no-op on other databases)."""
    if connection.vendor != "sqlite":
        yield
        return
    with _thread_lock:
        descriptor = _lock_file(str(connection.settings_dict["NAME"]))
        if descriptor is None:
            yield
            return
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
