"""`shipwith worker`: django-tasks-db's db_worker, prompt, warm, and with a stop that keeps
the running task.

Prompt: idle, db_worker sleeps `--interval` (1 s) between looks, each a query under a write
lock. Here it reads when the next queued task is due (one cheap read of the queue's index)
every `--interval` (0.2 s), sleeps until then when that comes sooner (the ingest polling's
next look, a seat's retry), and looks only once a task is ready: a task queued for a time
starts at that time, one another process queues (an editor's accept, `up`'s reviews) within
0.2 s. Idle, it uses 0.6% of a core (db_worker: 0.3% looking once a second, 5.4% ten
times a second; measured on SQLite).

Warm: before its first look it loads the panel's model SDK and makes its client, calling no
model, so its first panel runs as fast as its next (the SDK's import alone takes a second).

Stop: db_worker stops after its running task on a first SIGTERM or SIGINT. On a second, it
raises SystemExit inside the task, records the task as failed (no worker runs it again), then
waits for the threads the task started: an embedded-model generation runs to its end. Here a
second signal interrupts the task (its cleanup runs: a panel run gives its seats back), puts
it back in the queue for the next worker, and exits at once. A third signal kills the worker.

Database away: db_worker records a task that failed because the database refused it for a
moment (a restart, refused connections) as failed for good, and a task whose end it could not
record stays RUNNING under a live worker, which no other worker takes over. Here the first goes
back in the queue to run again after 5, 20 and 80 s before it counts as failed, and the second
goes back in the queue once the database answers again.
"""

import datetime as dt
import os
import random
import signal
import sys
import time
from types import FrameType

from django.db import InterfaceError, OperationalError, close_old_connections
from django.db.models import Case, Min, Value, When
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import retry

from shipwith.core.workers import task_running, worker_beating
from shipwith.panel.tasks import panel_worker_warm

# Idle, a read of the queue this often (how soon a task another process queues starts)...
INTERVAL = 0.2
# ...and never more often than this, even when a task is ready but was not ours to take
# (another worker claiming it, a locked database): no busy loop.
WAIT_MIN = 0.01
# A task failed because the database was away runs again this many times, the first after
# this many seconds, each wait four times the last (5, 20, 80 s).
DATABASE_RETRIES = 3
DATABASE_RETRY_FIRST = 5.0
DATABASE_AWAY = (OperationalError, InterfaceError)


class Interrupted(BaseException):
    """A second stop signal arrived while a task was running."""


@retry()
def task_requeue(result: DBTaskResult, *, after: float = 0.0) -> None:
    """Put a task back in the queue, as if no worker had taken it; due `after` seconds from now
    (0: ready at once)."""
    result.status = TaskResultStatus.READY
    result.started_at = result.finished_at = result.return_value = None
    result.exception_class_path = result.traceback = ""
    fields = ["status", "started_at", "finished_at", "return_value"]
    if after:
        result.run_after = timezone.now() + dt.timedelta(seconds=after)
        fields.append("run_after")
    result.save(update_fields=[*fields, "exception_class_path", "traceback"])


def database_retry_after(result: DBTaskResult, exc: BaseException) -> float | None:
    """Seconds to wait before running again a task that failed because the database was away
    for a moment (a restart, refused connections, SQLite's lock held too long); None when the
    failure is the task's own or it has had its tries. Tasks are safe to re-run (see
    core/workers.py): the retry starts the task from its beginning."""
    if not isinstance(exc, DATABASE_AWAY):
        return None
    tries = len(result.worker_ids)  # each claim adds the worker's id
    if tries > DATABASE_RETRIES:
        return None
    return DATABASE_RETRY_FIRST * 4 ** (tries - 1)


class Worker(db_worker.Worker):
    unsettled: DBTaskResult | None = None  # a task whose end the database did not take

    # db_worker sleeps `self.interval` after a look that found nothing, and its look is a
    # query under a write lock (2.4 ms of CPU on SQLite). Read here, `interval` waits for work
    # in cheap steps (one read of the queue's index, 0.4 ms) and leaves nothing to sleep, so
    # db_worker looks only when a task is ready.
    @property
    def interval(self) -> float:
        if not self._interval:
            return 0.0  # --interval 0: db_worker's own way (tests)
        while True:
            close_old_connections()  # as db_worker does before each look
            until = self._until_due()
            if until is not None and until <= 0:
                return WAIT_MIN  # ready: db_worker looks after this
            time.sleep(self._interval if until is None else min(until, self._interval))

    @interval.setter
    def interval(self, seconds: float) -> None:
        self._interval = seconds

    def _until_due(self) -> float | None:
        """Seconds until the next of our queued tasks is due (0 or less: one is ready)."""
        pending = DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, backend_name=self.backend_name
        )
        if not self.process_all_queues:
            pending = pending.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            pending = pending.exclude(queue_name__in=self.excluded_queue_names)
        now = timezone.now()
        # A task queued with no time carries the largest date: it is ready now.
        due = pending.aggregate(
            due=Min(Case(When(run_after=get_date_max(), then=Value(now)), default="run_after"))
        )["due"]
        return None if due is None else (due - now).total_seconds()

    def run(self) -> None:
        if not self.batch:  # a worker that empties the queue and exits has no next panel
            db_worker.logger.info("Panel model: %s", panel_worker_warm())
        if self.startup_delay and self._interval:  # db_worker's own, but it reads `interval`
            self.startup_delay = False
            time.sleep(random.random())  # noqa: S311 - workers started together spread out
        with worker_beating(worker_id=self.worker_id):  # a worker killed outright: core/workers.py
            while True:
                try:
                    self._unsettled_requeue()
                    return super().run()
                except DATABASE_AWAY:  # the database refused us for a moment: look again
                    if not self.running:
                        raise
                    db_worker.logger.warning("Database unavailable; looking again", exc_info=True)
                    close_old_connections()
                    time.sleep(max(self._interval, 1))  # not `interval`: that reads the queue

    def _unsettled_requeue(self) -> None:
        """Put back in the queue the task whose end could not be recorded while the database
        was away: it shows RUNNING under this live worker, which no other worker takes over."""
        if self.unsettled is not None:
            task_requeue(self.unsettled)
            db_worker.logger.warning("Task id=%s: queued again", self.unsettled.id)
            self.unsettled = None

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if self.running or not self.running_task:
            super().shutdown(signum, frame)
            return
        db_worker.logger.warning(
            "Received %s - putting the current task back in the queue.", signal.strsignal(signum)
        )
        self.reset_signals()
        raise Interrupted(signum)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        failed = db_task_result.set_failed

        # db_worker records whatever leaves the task as its failure; an interruption is not
        # one, and the database away for a moment is one a later try gets past.
        interrupted = False

        def settle(exc: BaseException) -> None:
            nonlocal interrupted
            if isinstance(exc, Interrupted):
                interrupted = True
                task_requeue(db_task_result)
            elif (after := database_retry_after(db_task_result, exc)) is not None:
                db_worker.logger.warning(
                    "Task id=%s: the database was away (%s); trying again in %.0f s",
                    db_task_result.id,
                    exc,
                    after,
                )
                close_old_connections()
                task_requeue(db_task_result, after=after)
            else:
                failed(exc)

        db_task_result.set_failed = settle
        try:
            with task_running(str(db_task_result.id)):
                super().run_task(db_task_result)
        except DATABASE_AWAY:  # neither its end nor its retry could be recorded
            self.unsettled = db_task_result
            raise
        if interrupted:  # its state is stored
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)  # not waiting for a model call the task left running in a thread


class Command(db_worker.Command):
    help = (
        "Run a task worker that starts each task when it is due, warms the panel's model, "
        "and whose second stop signal puts the running task back in the queue."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(interval=INTERVAL)

    def handle(self, *, verbosity: int, reload: bool, batch: bool, **options) -> None:
        self.configure_logging(verbosity)
        excluded = options["exclude_queues"]
        worker = Worker(
            queue_names=options["queue_name"].split(","),
            excluded_queue_names=excluded.split(",") if excluded else [],
            interval=options["interval"],
            batch=batch,
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # in the reloaded child only, as db_worker does
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
