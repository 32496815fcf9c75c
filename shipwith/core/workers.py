"""Task workers that die outright (SIGKILL, the OOM killer, a lost host) do not take their
tasks with them.

django-tasks-db marks a task RUNNING and appends the worker's id to its `worker_ids` when a
worker claims it, and only that worker ever settles it: a worker killed outright leaves its
task RUNNING forever. So every worker beats: a thread of its own writes the worker's id and the
database's `now` into a `WorkerBeat` row every SHIPWITH_WORKER_BEAT seconds. A worker whose row
was not renewed for SHIPWITH_WORKER_LEASE seconds (or that has none) is dead, and every live
worker, every few beats, puts the RUNNING tasks last claimed by a dead worker back in the
queue. One conditional UPDATE per task, matching the claim it judged (status and `started_at`),
so two live workers never requeue one task twice and a task claimed again meanwhile is left
alone: the task runs again, once. So every worker of a site must be `shipwith worker`:
django-tasks-db's own `db_worker` does not beat, and its tasks would look orphaned.

A requeued task runs again from its start, so tasks must be safe to re-run (ours are: panel
seats, deliveries and source runs are leases of their own). The lease outlasts a panel seat's
by two beats, so the dead worker's seat claims have run out when its panel runs again. A worker
that was only frozen for longer than the lease comes back to find its task taken over: the
price of never losing one.
"""

import contextlib
import logging
import threading
from collections.abc import Iterator
from contextvars import ContextVar

from django.conf import settings
from django.db import DatabaseError, IntegrityError, close_old_connections, connection
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from shipwith.core.leases import db_now, lease_cutoff, lease_lapsed
from shipwith.core.models import WorkerBeat

logger = logging.getLogger(__name__)
REQUEUE_EVERY = 3  # beats between two looks for dead workers' tasks
_task_running: ContextVar[str] = ContextVar("shipwith_task_running", default="")


def task_running_id() -> str:
    """The id of the task a worker is running in this context ("" outside one). A task that
    finds work claimed under its own id by an earlier attempt knows that attempt is over: its
    worker was judged dead (below) or it ended on a database error (the worker's retry)."""
    return _task_running.get()


@contextlib.contextmanager
def task_running(task_id: str) -> Iterator[None]:
    """Mark the block as running the task `task_id` (the worker wraps each task in it)."""
    token = _task_running.set(task_id)
    try:
        yield
    finally:
        _task_running.reset(token)


def worker_beat(*, worker_id: str) -> None:
    """Record that this worker is alive, in database time."""
    if WorkerBeat.objects.filter(pk=worker_id).update(beat_at=db_now()):
        return
    with contextlib.suppress(IntegrityError):  # our own earlier beat won a race with itself
        WorkerBeat.objects.create(worker_id=worker_id, beat_at=db_now())


def worker_forget(*, worker_id: str) -> None:
    """Remove the beat of a worker that stops cleanly (it settled or requeued its task)."""
    WorkerBeat.objects.filter(pk=worker_id).delete()


def tasks_orphaned_requeue() -> int:
    """Put the running tasks of dead workers back in the queue; return how many."""
    lease = settings.SHIPWITH_WORKER_LEASE
    alive = set(
        WorkerBeat.objects.exclude(lease_lapsed("beat_at", lease)).values_list("pk", flat=True)
    )
    # A task claimed less than a lease ago is never judged: its worker may not have beaten yet.
    running = DBTaskResult.objects.running().filter(started_at__lt=lease_cutoff(lease))
    requeued = 0
    for task_id, started_at, worker_ids in running.values_list("pk", "started_at", "worker_ids"):
        if worker_ids and worker_ids[-1] in alive:
            continue
        if DBTaskResult.objects.filter(
            pk=task_id, status=TaskResultStatus.RUNNING, started_at=started_at
        ).update(status=TaskResultStatus.READY, started_at=None):
            requeued += 1
            logger.warning(
                "Task %s: its worker %s stopped beating; queued again", task_id, worker_ids
            )
    # Dead workers' rows have served their purpose once their tasks are back in the queue.
    WorkerBeat.objects.filter(lease_lapsed("beat_at", lease)).exclude(pk__in=alive).delete()
    return requeued


@contextlib.contextmanager
def worker_beating(*, worker_id: str) -> Iterator[None]:
    """Beat for `worker_id` from a thread while the block runs, and requeue dead workers'
    tasks every few beats; forget the worker when the block ends."""
    stop = threading.Event()
    worker_beat(worker_id=worker_id)  # alive before the first claim
    thread = threading.Thread(
        target=_beat_loop, args=(worker_id, stop), name="worker-beat", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        with contextlib.suppress(DatabaseError):
            worker_forget(worker_id=worker_id)


def _beat_loop(worker_id: str, stop: threading.Event) -> None:
    beats = 0
    while not stop.wait(settings.SHIPWITH_WORKER_BEAT):
        beats += 1
        close_old_connections()
        try:
            worker_beat(worker_id=worker_id)
            if beats % REQUEUE_EVERY == 0:
                tasks_orphaned_requeue()
        except DatabaseError:  # the database is away for a moment: beat again next time
            logger.warning("Worker %s: could not beat", worker_id, exc_info=True)
            with contextlib.suppress(DatabaseError):
                connection.close()
    connection.close()
