import datetime as dt
from decimal import Decimal

import pytest

from shipwith.catalog.files import CatalogError
from shipwith.catalog.models import Tool
from shipwith.catalog.services import catalog_export, catalog_import
from tests.catalog.conftest import VALID, db_snapshot

pytestmark = pytest.mark.django_db


def test_import_stores_every_field(valid_catalog):
    report = catalog_import(path=valid_catalog)

    assert sorted(report.created) == ["hosted-thing", "vllm"]
    vllm = Tool.objects.get(slug="vllm")
    assert vllm.vendor.name == "vLLM project"
    assert vllm.vendor.homepage == "https://vllm.ai/"
    assert vllm.category.name == "Inference servers"
    assert vllm.licence_kind == "open_source"
    assert vllm.release_date == dt.date(2023, 6, 20)
    assert vllm.entry_price == "Free"
    assert vllm.sources.get().checked_on == dt.date(2026, 11, 1)
    assert sorted(vllm.tags.values_list("name", flat=True)) == ["open-source", "serving"]
    hosted = Tool.objects.get(slug="hosted-thing")
    assert hosted.entry_price == "$20/mo"
    assert [t.price for t in hosted.tiers.all()] == ["$40.50/mo", "Contact sales"]
    assert hosted.tiers.first().amount == Decimal("40.5")


def test_reimporting_the_same_file_changes_nothing(valid_catalog):
    catalog_import(path=valid_catalog)
    before = db_snapshot()

    report = catalog_import(path=valid_catalog)

    assert report.created == [] and report.updated == []
    assert sorted(report.unchanged) == ["hosted-thing", "vllm"]
    assert db_snapshot() == before


def test_an_edited_entry_updates_in_place(valid_catalog, catalog_file):
    catalog_import(path=valid_catalog)
    edited = catalog_file(VALID.replace("High-throughput serving", "Fast serving"), "edit.yaml")

    report = catalog_import(path=edited)

    assert report.updated == ["vllm"]
    assert Tool.objects.count() == 2
    assert Tool.objects.get(slug="vllm").tagline == "Fast serving with paged attention"


def test_export_then_import_round_trips(valid_catalog, tmp_path, django_db_blocker):
    catalog_import(path=valid_catalog)
    first = catalog_export()
    exported = tmp_path / "exported.yaml"
    exported.write_text(first)
    Tool.objects.all().delete()

    catalog_import(path=exported)

    assert catalog_export() == first


def test_export_to_a_folder_writes_a_file_per_category(valid_catalog, tmp_path):
    catalog_import(path=valid_catalog)
    folder = tmp_path / "out"
    folder.mkdir()

    catalog_export(path=folder)

    assert [p.name for p in folder.iterdir()] == ["inference-servers.yaml"]
    Tool.objects.all().delete()
    assert sorted(catalog_import(path=folder).created) == ["hosted-thing", "vllm"]


def test_html_in_text_fields_is_stored_as_plain_text(catalog_file):
    path = catalog_file(
        VALID.replace(
            "tagline: High-throughput serving with paged attention",
            "tagline: '<script>alert(1)</script><b>Fast</b> &amp; <img src=x onerror=alert(2)>cheap'",
        )
    )
    catalog_import(path=path)
    assert Tool.objects.get(slug="vllm").tagline == "Fast & cheap"


def test_a_folder_of_files_imports_together(catalog_file):
    catalog_file("categories:\n  - {slug: vector-databases, name: Vector databases}\n", "a.yaml")
    path = catalog_file("tools:\n  - {name: Qdrant, category: vector-databases}\n", "b.yaml")

    report = catalog_import(path=path.parent)

    assert report.created == ["qdrant"]


def test_a_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="no such file"):
        catalog_import(path=tmp_path / "nope.yaml")
