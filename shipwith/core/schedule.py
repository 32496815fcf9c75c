"""Recurring background work on django-tasks (which has no cron): each run queues the next."""

import datetime as dt

from django.db import transaction

from shipwith.core.turns import turn_take


def queued_at(task_path: str) -> dt.datetime | None:
    """When the task at `task_path` is queued to run next, or None."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    pending = DBTaskResult.objects.filter(
        task_path=task_path, status=TaskResultStatus.READY
    ).order_by("run_after")
    first = pending.first()
    return first.run_after if first else None


def queue_single(task, when: dt.datetime, *, sooner: bool = False) -> dt.datetime:
    """Queue `task` at `when` unless it is queued already (with `sooner`, a run queued for
    later is brought forward to `when`); return when it runs.

    The look and the insert take the task's turn (core/turns.py), so two processes that call
    it at once (two `up`s, two links of one chain) queue one run: a chain that re-queues
    itself with it stays one chain.
    """
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        turn_take(task.module_path)
        queued = queued_at(task.module_path)
        if queued is None:
            task.using(run_after=when).enqueue()
            return when
        if sooner and queued > when:
            DBTaskResult.objects.filter(
                task_path=task.module_path, status=TaskResultStatus.READY, run_after__gt=when
            ).update(run_after=when)
            return when
        return queued


def unqueue(task_path: str) -> int:
    """Drop the queued (not yet started) runs of a task that no longer exists."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    dropped, _ = DBTaskResult.objects.filter(
        task_path=task_path, status=TaskResultStatus.READY
    ).delete()
    return dropped
