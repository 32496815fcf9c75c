"""Background work of comparisons: the moderator's read, queued where panels and pairs change.

Nothing reading a page queues work. A read is queued when comparisons are published and when a
panel task ends (django-tasks' `task_finished`, connected in apps.py); the read's own task
checks again that it is due, so a read queued twice is written once.
"""

from django.db import transaction
from django_tasks import TaskResultStatus, task

from shipwith.comparisons.selectors import moderator_reads_due
from shipwith.comparisons.services import (
    PEERS,
    PublishReport,
    comparisons_publish,
    moderator_read_write,
)
from shipwith.panel.models import PanelRun
from shipwith.panel.tasks import panel_run_task, panel_seats_retry_task


# A reviewed tool's comparisons go out right after its panel, ahead of panels queued before
# it (`up` reviewing the catalog) and of the moderator's reads, which wait for the rest: the
# worker starts the next task the moment one ends, so this hop costs one look at the queue.
@task(priority=1)
def tool_comparisons_publish_task(tool_id: int, category_id: int) -> str:
    """Publish the nearest peers in a reviewed tool's category, then queue its pairs' reads."""
    report = comparisons_publish(category_id=category_id)
    report.reads_queued = moderator_reads_enqueue(tool_ids=[tool_id])
    return str(report)


@task(priority=-5)
def moderator_read_task(comparison_id: int) -> None:
    """Write the moderator's read of one published comparison."""
    moderator_read_write(comparison_id=comparison_id)


def moderator_reads_enqueue(*, tool_ids: list[int] | None = None) -> int:
    """Queue, on commit, the reads due for these tools' published pairs (or all); how many."""
    due = moderator_reads_due(tool_ids=tool_ids)

    def enqueue() -> None:
        with transaction.atomic():  # one commit for the whole batch, not one per job
            for comparison_id in due:
                moderator_read_task.enqueue(comparison_id)

    if due:
        transaction.on_commit(enqueue)
    return len(due)


def comparisons_publish_and_queue_reads(*, peers: int = PEERS) -> PublishReport:
    """Publish comparisons, then queue the moderator's reads that are due."""
    report = comparisons_publish(peers=peers)
    report.reads_queued = moderator_reads_enqueue()
    return report


PANEL_TASKS = frozenset({panel_run_task.module_path, panel_seats_retry_task.module_path})


def panel_task_finished(sender, task_result, **kwargs) -> None:
    """A panel task ended: publish its tool's nearest peers (a tool found while the site runs
    gets its comparisons now, not at the next `up`), then queue the reads its pairs need."""
    if task_result.task.module_path not in PANEL_TASKS:
        return
    if task_result.status != TaskResultStatus.SUCCESSFUL:
        return
    (run_id,) = task_result.args

    def enqueue() -> None:
        found = PanelRun.objects.filter(pk=run_id).values_list("tool_id", "tool__category_id")
        for tool_id, category_id in found[:1]:
            tool_comparisons_publish_task.enqueue(tool_id, category_id)

    # Robust: a failure here is logged and must not turn the panel's finished task into a
    # failed one (the worker records whatever its signal handlers raise as the task's error).
    transaction.on_commit(enqueue, robust=True)
