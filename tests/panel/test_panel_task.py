"""A panel run as a background task: enqueued on commit, done by the database worker."""

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from shipwith.panel.models import PanelRun, Review, RunStatus
from shipwith.panel.tasks import panel_run_enqueue
from tests.panel.conftest import good_review


@pytest.mark.django_db(transaction=True)
def test_enqueued_on_commit_and_run_by_the_worker(mock_model, personas, make_tool):
    tool = make_tool()
    with transaction.atomic():
        run = panel_run_enqueue(tool_id=tool.pk, model_spec="mock:m")
        assert not DBTaskResult.objects.exists()  # nothing before the commit
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [run.pk]
    mock_model.enqueue(*[good_review()] * 4)
    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)
    assert PanelRun.objects.get(pk=run.pk).status == RunStatus.COMPLETE
    assert Review.objects.filter(tool=tool).count() == 4
