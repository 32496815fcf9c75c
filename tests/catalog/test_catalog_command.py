import pytest
from django.db.models import Q

from shipwith.catalog.models import Category, Tool
from shipwith.panel.selectors import tools_lacking_panel
from shipwith.web.models import Comparison

pytestmark = pytest.mark.django_db

CODE_MODELS = {"code-llama", "codestral", "devstral-small", "qwen2-5-coder", "starcoder2"}


def test_import_then_export_through_the_cli(valid_catalog, run_command, tmp_path):
    output = run_command("catalog", "import", str(valid_catalog))
    assert "2 created, 0 updated, 0 unchanged" in output

    exported = run_command("catalog", "export")
    assert "slug: vllm" in exported and "name: Hosted Thing" in exported

    target = tmp_path / "copy.yaml"
    run_command("catalog", "export", str(target))
    assert target.read_text() == exported


def test_starter_catalog_is_real_and_loads(starter_catalog):
    assert Tool.objects.count() >= 40
    assert Category.objects.filter(tools__isnull=False).distinct().count() >= 6
    for slug in CODE_MODELS:
        tool = Tool.objects.get(slug=slug)
        assert tool.category.name == "Developer tools"
        assert tool.licence_kind == "open_weights"
    assert Tool.objects.get(slug="code-llama").licence == "Llama 2 Community License"
    assert Tool.objects.get(slug="devstral-small").licence == "Apache-2.0"
    assert Tool.objects.get(slug="devstral-small").entry_price == "Free"
    assert all(tool.sources.exists() for tool in Tool.objects.all())


def test_up_setup_only_migrates_loads_the_starter_catalog_once_and_publishes(run_command):
    run_command("up", "--setup-only")
    count = Tool.objects.count()
    assert count >= 40
    published = Comparison.objects.published().count()
    assert published >= count  # every tool has its nearest peers in its category

    run_command("up", "--setup-only")

    assert Tool.objects.count() == count
    assert Comparison.objects.published().count() == published
    # Code Llama is compared with its peers among the code models, never across categories.
    pairs = Comparison.objects.published().filter(
        Q(tool_a__slug="code-llama") | Q(tool_b__slug="code-llama")
    )
    assert pairs.exists()
    assert all({pair.tool_a.slug, pair.tool_b.slug} <= CODE_MODELS for pair in pairs)


def test_tools_lacking_a_panel_are_reviewed_smallest_category_first(starter_catalog):
    order = [Tool.objects.get(pk=pk) for pk in tools_lacking_panel()]

    assert {tool.slug for tool in order[: len(CODE_MODELS)]} == CODE_MODELS
    categories = [tool.category_id for tool in order]
    # A category at a time: once the order leaves a category it never comes back to it.
    assert len(categories) == len(Tool.objects.all())
    runs = [c for i, c in enumerate(categories) if i == 0 or c != categories[i - 1]]
    assert len(runs) == len(set(categories))
