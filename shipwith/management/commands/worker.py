"""`shipwith worker`: django-tasks-db's db_worker, prompt, warm, and with a stop that keeps
the running task.

Prompt: idle, db_worker sleeps `--interval` between looks for a due task. Here it sleeps until
the next queued task is due when that comes sooner (the ingest polling's next look, a seat's
retry), so a task queued for a time starts at that time, and the interval is 0.2 s, so a task
another process queues (an editor's accept, `up`'s reviews) starts within it. A look is one
query on the queue's partial index of ready tasks, plus the one that finds the next due time.

Warm: before its first look it loads the panel's model SDK and makes its client, calling no
model, so its first panel runs as fast as its next (the SDK's import alone takes a second).

Stop: db_worker stops after its running task on a first SIGTERM or SIGINT. On a second, it
raises SystemExit inside the task, records the task as failed (no worker runs it again), then
waits for the threads the task started: an embedded-model generation runs to its end. Here a
second signal interrupts the task (its cleanup runs: a panel run gives its seats back), puts
it back in the queue for the next worker, and exits at once. A third signal kills the worker.
"""

import os
import signal
import sys
from types import FrameType

from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import retry

from shipwith.panel.tasks import panel_worker_warm

# Idle, a look for queued work this often (db_worker's default is 1 s)...
INTERVAL = 0.2
# ...and never more often than this, even when a task is due already but was not ours to take
# (another worker's, or the database was locked): no busy loop.
WAIT_MIN = 0.02


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
    # db_worker sleeps `self.interval` after a look that found nothing: read here, it is the
    # time until the next queued task is due, when that is sooner.
    @property
    def interval(self) -> float:
        return self._idle_wait()

    @interval.setter
    def interval(self, seconds: float) -> None:
        self._interval = seconds

    def _idle_wait(self) -> float:
        if not self._interval:
            return 0.0  # --interval 0: db_worker's own way (tests, --batch)
        pending = DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, backend_name=self.backend_name
        )
        if not self.process_all_queues:
            pending = pending.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            pending = pending.exclude(queue_name__in=self.excluded_queue_names)
        due = pending.order_by("run_after").values_list("run_after", flat=True).first()
        if due is None:
            return self._interval
        until = (due - timezone.now()).total_seconds()
        return min(max(until, WAIT_MIN), self._interval)

    def run(self) -> None:
        if not self.batch:  # a worker that empties the queue and exits has no next panel
            db_worker.logger.info("Panel model: %s", panel_worker_warm())
        super().run()

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
