"""Recurring background work on django-tasks (which has no cron): each run queues the next."""

import datetime as dt
from collections.abc import Callable

from django.db import transaction


def queued_at(task_path: str) -> dt.datetime | None:
    """When the task at `task_path` is queued to run next, or None."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    pending = DBTaskResult.objects.filter(
        task_path=task_path, status=TaskResultStatus.READY
    ).order_by("run_after")
    first = pending.first()
    return first.run_after if first else None


def queue_once(task, next_run: Callable[[], dt.datetime]) -> dt.datetime:
    """Queue `task` at next_run() unless it is already queued; return when it runs."""
    if when := queued_at(task.module_path):
        return when
    when = next_run()
    transaction.on_commit(lambda: task.using(run_after=when).enqueue())
    return when
