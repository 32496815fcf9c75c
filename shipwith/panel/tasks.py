"""Background work of the panel: thin adapters that take ids and call a service."""

from django_tasks import task

from shipwith.panel.services import panel_run_execute


@task()
def panel_run_task(run_id: int) -> str:
    """Fill the seats of a panel run; a retry of a killed run resumes its pending seats."""
    return panel_run_execute(run_id=run_id).status
