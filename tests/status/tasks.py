"""Tasks the status tests run on a real worker."""

from django_tasks import task


@task()
def always_fails() -> None:
    raise RuntimeError("the model server went away")


@task()
def does_nothing() -> str:
    return "done"
