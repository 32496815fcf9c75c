"""A tool found while the site runs gets its comparisons when its panel is done, not at `up`."""

import pytest
from django.core.management import call_command
from django.db import transaction

from shipwith.comparisons.models import Comparison
from shipwith.comparisons.services import comparisons_publish
from shipwith.panel.models import PanelRun, RunStatus
from shipwith.panel.tasks import panel_run_enqueue
from tests.factories import make_category, make_panel, make_tool
from tests.panel.conftest import good_review


@pytest.mark.django_db(transaction=True)
def test_a_new_tools_panel_task_publishes_its_pairs(mock_model, personas, client, settings):
    settings.SHIPWITH_LLM = "mock:m"  # the moderator's reads the pairs queue ask it too
    servers = make_category()
    for slug in ("vllm", "sglang", "tgi"):
        make_panel(make_tool(slug, category=servers))
    other = make_category("vector-databases", "Vector databases")
    make_panel(make_tool("qdrant", category=other))
    comparisons_publish()
    before = set(Comparison.objects.values_list("pk", flat=True))

    newcomer = make_tool("lmdeploy", category=servers)  # accepted from ingest while serving
    with transaction.atomic():
        panel_run_enqueue(tool_id=newcomer.pk, model_spec="mock:m")
    mock_model.enqueue(*[good_review()] * 4)
    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)

    published = Comparison.objects.exclude(pk__in=before).filter(published_at__isnull=False)
    pairs = {frozenset((c.tool_a.slug, c.tool_b.slug)) for c in published}
    assert pairs and all("lmdeploy" in pair for pair in pairs)
    assert all(c.tool_a.category == servers == c.tool_b.category for c in published)
    home = client.get("/").content.decode()
    assert "lmdeploy" in home.lower()


@pytest.mark.django_db(transaction=True)
def test_a_tools_comparisons_go_out_right_after_its_panel_not_after_the_queue(
    mock_model, personas, settings
):
    settings.SHIPWITH_LLM = "mock:m"
    servers = make_category()
    for slug in ("vllm", "sglang"):
        make_panel(make_tool(slug, category=servers))
    comparisons_publish()
    first, second = make_tool("lmdeploy", category=servers), make_tool("tgi", category=servers)
    with transaction.atomic():  # `up` reviewing the catalog: panels queued one after another
        for tool in (first, second):
            panel_run_enqueue(tool_id=tool.pk, model_spec="mock:m")
    mock_model.enqueue(*[good_review()] * 8)

    # Two tasks: the first panel, then its publishing, ahead of the second panel.
    call_command("db_worker", "--batch", "--interval", "0", "--max-tasks", "2", verbosity=0)

    published = Comparison.objects.filter(published_at__isnull=False)
    assert published.filter(tool_a=first).exists() or published.filter(tool_b=first).exists()
    assert PanelRun.objects.get(tool=second).status == RunStatus.QUEUED
