import pytest

from shipwith.catalog.models import Category, Tool
from shipwith.comparisons.models import Comparison
from shipwith.panel.selectors import tools_lacking_panel

pytestmark = pytest.mark.django_db


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
    for slug in ["code-llama-4", "mistral-8x22b-v2", "mistral-3-1"]:
        tool = Tool.objects.get(slug=slug)
        assert tool.category.name == "Developer Tools"
        assert tool.entry_price == "Free"
        assert tool.licence_kind == "open_weights"
    assert "Llama 4 Community License" in Tool.objects.get(slug="code-llama-4").licence
    assert Tool.objects.get(slug="mistral-8x22b-v2").licence == "Apache-2.0"
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
    pair = Comparison.objects.published().get(
        tool_a__slug="code-llama-4", tool_b__slug="mistral-3-1"
    )
    assert pair.tool_a.category == pair.tool_b.category


def test_tools_lacking_a_panel_are_reviewed_smallest_category_first(starter_catalog):
    order = [Tool.objects.get(pk=pk) for pk in tools_lacking_panel()]

    assert {tool.slug for tool in order[:3]} == {"code-llama-4", "mistral-3-1", "mistral-8x22b-v2"}
    categories = [tool.category_id for tool in order]
    # A category at a time: once the order leaves a category it never comes back to it.
    assert len(categories) == len(Tool.objects.all())
    runs = [c for i, c in enumerate(categories) if i == 0 or c != categories[i - 1]]
    assert len(runs) == len(set(categories))
