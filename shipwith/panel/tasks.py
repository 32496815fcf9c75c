"""Background work of the panel: thin adapters that take ids and call the work (runs.py), and
the helpers that queue them. Only callers import this module; the work never does."""

import logging

from django.conf import settings
from django.db import transaction
from django_tasks import task

from shipwith.panel.llm.registry import default_model_spec, model_for
from shipwith.panel.models import PanelRun
from shipwith.panel.runner import as_completed
from shipwith.panel.runs import (
    panel_run_execute,
    panel_run_open,
    panel_run_reopen,
    seats_retry_schedule,
)

logger = logging.getLogger(__name__)


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


def panel_worker_warm() -> str:
    """Build the panel's default model and its client in this process, calling no model: a
    worker's first panel then runs as fast as its next. Say which, or why not."""
    try:
        model = model_for(default_model_spec())
        for _key, outcome in as_completed(parallel=[(model.spec, model.aopen)], in_turn=[]):
            if isinstance(outcome, BaseException):
                raise outcome
    except Exception as exc:  # its first panel says so again, on the run's record
        logger.warning("The panel's model was not prepared ahead: %s", exc)
        return f"not prepared: {exc}"
    return f"prepared {model.spec}"
