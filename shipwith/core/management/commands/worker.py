"""`shipwith worker`: django-tasks-db's db_worker, with a stop that keeps the running task.

db_worker stops after its running task on a first SIGTERM or SIGINT. On a second, it raises
SystemExit inside the task, records the task as failed (no worker runs it again), then waits
for the threads the task started: an embedded-model generation runs to its end. Here a second
signal interrupts the task (its cleanup runs: a panel run gives its seats back), puts it back
in the queue for the next worker, and exits at once. A third signal kills the worker.
"""

import os
import signal
import sys
import time
from types import FrameType

from django.db import OperationalError, close_old_connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import retry

from shipwith.core.workers import worker_beating


class Interrupted(BaseException):
    """A second stop signal arrived while a task was running."""


@retry()
def task_requeue(result: DBTaskResult) -> None:
    """Put an interrupted task back in the queue, as if no worker had taken it."""
    result.status = TaskResultStatus.READY
    result.started_at = result.finished_at = result.return_value = None
    result.exception_class_path = result.traceback = ""
    fields = ["status", "started_at", "finished_at", "return_value"]
    result.save(update_fields=[*fields, "exception_class_path", "traceback"])


class Worker(db_worker.Worker):
    def run(self) -> None:
        with worker_beating(worker_id=self.worker_id):  # a worker killed outright: core/workers.py
            while True:
                try:
                    return super().run()
                except OperationalError:  # the database refused us for a moment: look again
                    if not self.running:
                        raise
                    db_worker.logger.warning("Database unavailable; looking again", exc_info=True)
                    close_old_connections()
                    time.sleep(max(self.interval, 1))

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
        # db_worker records whatever leaves the task as its failure; an interruption is not one.
        db_task_result.set_failed = lambda exc: (
            task_requeue(db_task_result) if isinstance(exc, Interrupted) else failed(exc)
        )
        super().run_task(db_task_result)
        if db_task_result.status == TaskResultStatus.READY:  # interrupted: its state is stored
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)  # not waiting for a model call the task left running in a thread


class Command(db_worker.Command):
    help = "Run a task worker whose second stop signal puts the running task back in the queue."

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
