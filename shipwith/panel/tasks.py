"""Background work of the panel: thin adapters that take ids and call the work (runs.py), and
the helpers that queue them. Only callers import this module; the work never does."""

from django.conf import settings
from django.db import transaction
from django_tasks import task

from shipwith.panel.models import PanelRun
from shipwith.panel.runs import (
    panel_run_execute,
    panel_run_open,
    panel_run_reopen,
    seats_retry_schedule,
)


def panel_run_enqueue(*, tool_id: int, model_spec: str | None = None) -> PanelRun:
    """Open a run and hand it to the task worker once the transaction commits."""
    run = panel_run_open(tool_id=tool_id, model_spec=model_spec)
    transaction.on_commit(lambda: panel_run_task.enqueue(run.pk))
    return run


def seats_retry_later(run_id: int) -> None:
    """Hand a run's failed seats to the worker, to be tried again after their backoff."""
    # A backend that cannot defer (the immediate one of some tests) leaves retries to editors.
    if not panel_seats_retry_task.get_backend().supports_defer:
        return
    when = seats_retry_schedule(run_id=run_id)
    if when is not None:
        panel_seats_retry_task.using(run_after=when).enqueue(run_id)


@task()
def panel_run_task(run_id: int) -> str:
    """Fill the seats of a panel run; a retry of a killed run resumes its pending seats."""
    status = panel_run_execute(run_id=run_id).status
    seats_retry_later(run_id)
    return status


@task()
def panel_seats_retry_task(run_id: int) -> str:
    """Ask a run's failed seats again, with backoff, up to SHIPWITH_PANEL_SEAT_RETRIES tries."""
    if not panel_run_reopen(run_id=run_id, retry_limit=settings.SHIPWITH_PANEL_SEAT_RETRIES):
        return "nothing due"
    status = panel_run_execute(run_id=run_id).status
    seats_retry_later(run_id)
    return status
