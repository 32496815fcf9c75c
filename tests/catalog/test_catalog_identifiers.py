"""External identifiers and aliases in catalog files; price history; the starter catalog."""

import datetime as dt
from decimal import Decimal

import pytest
import yaml

from shipwith.catalog.files import CatalogError
from shipwith.catalog.models import PriceChange, Source, Tool
from shipwith.catalog.services import catalog_export, catalog_import
from tests.catalog.conftest import VALID, db_snapshot

pytestmark = pytest.mark.django_db

WITH_IDS = VALID.replace(
    "    tags: [serving, open-source]\n",
    "    tags: [serving, open-source]\n"
    "    aliases: [vllm-project, Virtual LLM]\n"
    "    github_repo: vllm-project/vllm\n"
    "    huggingface_id: Qwen/Qwen2.5-7B-Instruct\n"
    "    openrouter_slug: openai/gpt-4o\n",
).replace(
    "    homepage: https://github.com/vllm-project/vllm\n", "    homepage: https://vllm.ai/\n"
)


def test_identifiers_and_aliases_import_and_export_round_trip(catalog_file, tmp_path):
    catalog_import(path=catalog_file(WITH_IDS))
    tool = Tool.objects.get(slug="vllm")
    assert tool.alias_list == ["vllm-project", "Virtual LLM"]
    assert (tool.github_repo, tool.huggingface_id, tool.openrouter_slug) == (
        "vllm-project/vllm",
        "Qwen/Qwen2.5-7B-Instruct",
        "openai/gpt-4o",
    )
    assert tool.homepage_domain == "vllm.ai"  # a homepage at a site's root names the tool
    exported = yaml.safe_load(catalog_export())
    entry = next(t for t in exported["tools"] if t["slug"] == "vllm")
    assert entry["aliases"] == ["vllm-project", "Virtual LLM"]
    assert "homepage_domain" not in entry  # implied by the homepage
    before = db_snapshot()
    report = catalog_import(path=catalog_file(catalog_export(), "again.yaml"))
    assert report.updated == [] and db_snapshot() == before


def test_a_homepage_deep_in_a_site_or_on_a_shared_host_names_no_tool(catalog_file):
    catalog_import(path=catalog_file(VALID))  # homepage https://github.com/vllm-project/vllm
    assert Tool.objects.get(slug="vllm").homepage_domain == ""
    deep = VALID.replace("https://github.com/vllm-project/vllm", "https://openai.com/index/gpt-5/")
    catalog_import(path=catalog_file(deep, "deep.yaml"))
    assert Tool.objects.get(slug="vllm").homepage_domain == ""


def test_one_identifier_on_two_tools_is_refused_naming_both(catalog_file):
    text = WITH_IDS.replace(
        "  - name: Hosted Thing\n", "  - name: Hosted Thing\n    github_repo: VLLM-Project/vllm\n"
    )
    with pytest.raises(CatalogError) as caught:
        catalog_import(path=catalog_file(text))
    [problem] = caught.value.problems
    assert "field 'github_repo'" in problem.where
    assert "'vllm-project/vllm' already names the tool 'vllm'" in problem.message
    assert not Tool.objects.exists()


def test_a_malformed_identifier_names_its_field(catalog_file):
    text = WITH_IDS.replace("huggingface_id: Qwen/Qwen2.5-7B-Instruct", "huggingface_id: not an id")
    with pytest.raises(CatalogError) as caught:
        catalog_import(path=catalog_file(text))
    assert "field 'huggingface_id'" in str(caught.value)


def test_a_price_change_reads_old_to_new_with_the_unit(catalog_file):
    catalog_import(path=catalog_file(VALID))
    change = PriceChange.objects.create(
        tool=Tool.objects.get(slug="vllm"),
        field="price_amount",
        old=Decimal("0.15"),
        new=Decimal("0.2"),
        unit="1M input tokens",
        changed_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )
    assert change.text == "$0.15 → $0.20 per 1M input tokens"


def test_the_starter_catalog_has_no_made_up_dates(starter_catalog):
    assert Source.objects.exists()
    assert not Source.objects.filter(checked_on__isnull=False).exists()
    vllm = Tool.objects.get(slug="vllm")
    assert vllm.github_repo == "vllm-project/vllm"
    assert Tool.objects.get(slug="gpt-4o").openrouter_slug == "openai/gpt-4o"
    assert Tool.objects.get(slug="ollama").homepage_domain == "ollama.com"
