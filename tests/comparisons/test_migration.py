"""Comparison moved from the pages app to comparisons: an existing database keeps its rows."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from shipwith.comparisons.models import Comparison

BEFORE = [("comparisons", None)]  # the state main's migrations leave: web owns Comparison


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader: what is applied now


@pytest.mark.django_db(transaction=True)
def test_a_comparison_written_before_the_move_reads_back_after_it():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = migrate(BEFORE)
    try:
        assert ("web", "0003_comparison_moved") not in old.loader.applied_migrations
        state = old.loader.project_state(list(old.loader.applied_migrations)).apps
        category = state.get_model("catalog", "Category").objects.create(slug="servers", name="S")
        tools = state.get_model("catalog", "Tool")
        a = tools.objects.create(slug="ollama", name="Ollama", category=category)
        b = tools.objects.create(slug="vllm", name="vLLM", category=category)
        state.get_model("web", "Comparison").objects.create(
            tool_a=a, tool_b=b, published_at=timezone.now(), moderator_read="A read."
        )
        ContentType.objects.filter(app_label="comparisons", model="comparison").delete()
        web_type = ContentType.objects.get_or_create(app_label="web", model="comparison")[0]
    finally:
        migrate(latest)
    comparison = Comparison.objects.select_related("tool_a", "tool_b").get()
    assert comparison.slug == "ollama-vs-vllm" and comparison.moderator_read == "A read."
    assert Comparison._meta.db_table == "web_comparison"
    # Permissions granted on the model follow it: its content type moved, not a new one made.
    assert ContentType.objects.get_for_model(Comparison).pk == web_type.pk
    # The table keeps its constraint: a pair is still published once.
    with pytest.raises(IntegrityError):
        Comparison.objects.create(tool_a=comparison.tool_a, tool_b=comparison.tool_b)
