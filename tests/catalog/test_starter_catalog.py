"""The bundled starter catalog: real tools only, each with a source that describes it."""

from collections import Counter
from urllib.parse import urlsplit

import pytest

from shipwith.catalog.files import parse_path
from shipwith.catalog.identifiers import host_of
from shipwith.catalog.models import Category, Source, Tool
from shipwith.catalog.services import STARTER_CATALOG, catalog_load_starter

pytestmark = pytest.mark.django_db

# Tools that never existed, once listed here with pages that did not describe them.
INVENTED = ["Code Llama 4", "Mistral 8x22B v2", "Mistral 3.1"]


def test_the_starter_catalog_loads_every_entry_through_the_real_loader():
    entries = [tool for parsed in parse_path(STARTER_CATALOG) for tool in parsed.document.tools]

    report = catalog_load_starter()

    assert len(report.created) == len(entries) == Tool.objects.count() >= 50
    assert catalog_load_starter() is None  # a database with tools is left alone


def test_every_category_has_enough_tools_to_compare(starter_catalog):
    sizes = Counter(Tool.objects.values_list("category__slug", flat=True))
    assert len(sizes) == Category.objects.count() == 8
    assert min(sizes.values()) >= 4, sizes


def test_invented_tools_are_gone(starter_catalog, client):
    names = set(Tool.objects.values_list("name", flat=True))
    assert names.isdisjoint(INVENTED)
    assert client.get("/tools/code-llama-4/").status_code == 404
    assert client.get("/tools/mistral-8x22b-v2/").status_code == 404


def test_every_tool_has_a_source_that_names_it(starter_catalog):
    for tool in Tool.objects.prefetch_related("sources"):
        names = [tool.name.lower(), *(alias.lower() for alias in tool.alias_list)]
        snapshots = [source.snapshot.lower() for source in tool.sources.all()]
        assert snapshots, f"{tool.slug} has no source"
        assert any(name in text for text in snapshots for name in names), (
            f"no source of {tool.slug} mentions {tool.name}"
        )


def test_no_source_is_a_site_root_other_than_the_tools_own(starter_catalog):
    for source in Source.objects.select_related("tool"):
        if urlsplit(source.url).path in ("", "/"):
            assert host_of(source.url) == source.tool.homepage_domain != "", (
                f"{source.tool.slug}: {source.url} is a site's home page, not the tool's own"
            )


def test_no_two_tools_share_a_source_page(starter_catalog):
    owners = Counter(url.rstrip("/") for url in Source.objects.values_list("url", flat=True))
    shared = {url: n for url, n in owners.items() if n > 1}
    assert not shared, f"pages that describe no single tool: {shared}"


def test_the_real_code_models_replace_the_invented_ones(starter_catalog, client):
    code_llama = Tool.objects.get(slug="code-llama")
    assert code_llama.licence == "Llama 2 Community License"
    assert code_llama.vendor.name == "Meta"
    assert code_llama.sources.filter(url="https://github.com/meta-llama/codellama").exists()

    codestral = Tool.objects.get(slug="codestral")
    assert codestral.licence == "Mistral AI Non-Production License"
    assert codestral.entry_price == ""  # no sourced price: none shown rather than a guess

    mixtral = Tool.objects.get(slug="mixtral-8x22b")
    assert mixtral.huggingface_id == "mistralai/Mixtral-8x22B-v0.1"
    assert mixtral.licence == "Apache-2.0"

    page = client.get("/tools/code-llama/")
    assert page.status_code == 200
    assert "Llama 2 Community License" in page.content.decode()
