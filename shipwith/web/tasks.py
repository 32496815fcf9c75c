"""Background jobs of the web app: thin adapters that take ids and call a service."""

from django_tasks import task

from shipwith.web.services import moderator_read_write


@task()
def moderator_read_task(comparison_id: int) -> None:
    """Write the moderator's read of one published comparison."""
    moderator_read_write(comparison_id=comparison_id)
