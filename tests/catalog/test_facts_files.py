"""Catalog files carry facts with their source and the day they were read."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import yaml

from shipwith.catalog.files import CatalogError
from shipwith.catalog.models import Fact, FactChange
from shipwith.catalog.readings import facts_record
from shipwith.catalog.selectors import fact_history, tool_facts
from shipwith.catalog.services import catalog_export, catalog_import
from tests.catalog.conftest import db_snapshot
from tests.catalog.facts_helpers import OPENROUTER

pytestmark = pytest.mark.django_db

WITH_FACTS = """\
categories:
  - {slug: hosted-models, name: Hosted models}
tools:
  - name: GPT-4o
    slug: gpt-4o
    category: hosted-models
    facts:
      - key: input_price_per_mtok
        value: 2.5
        source: https://openai.com/api/pricing/
        title: OpenAI API pricing
        read: 2026-11-01
      - key: context_window
        value: 128000
        source: https://platform.openai.com/docs/models/gpt-4o
        read: 2026-11-01
      - key: input_modalities
        value: [text, image]
        source: https://platform.openai.com/docs/models/gpt-4o
        read: 2026-11-01
      - key: open_weights
        value: false
        source: https://platform.openai.com/docs/models/gpt-4o
        read: 2026-11-01
"""


def test_facts_in_a_file_are_recorded_with_source_and_day(catalog_file):
    catalog_import(path=catalog_file(WITH_FACTS))
    price, context, modalities, weights = tool_facts(_tool_id())
    assert price.text == "$2.50 per 1M tokens"
    assert (price.source.url, price.source.title) == (
        "https://openai.com/api/pricing/",
        "OpenAI API pricing",
    )
    assert price.read_at == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert context.value == 128000 and modalities.value == ("image", "text")
    assert weights.value is False


def _tool_id() -> int:
    return Fact.objects.values_list("tool_id", flat=True).first()


def test_export_then_import_gives_back_the_same_facts(catalog_file):
    catalog_import(path=catalog_file(WITH_FACTS))
    tool_id = _tool_id()
    # A reading with a time (ingest's) goes out with its time, so a re-import is no change.
    facts_record(
        tool_id=tool_id,
        source_url=OPENROUTER,
        source_title="OpenRouter",
        read_at=dt.datetime(2026, 11, 3, 14, 31, 5, 120000, tzinfo=dt.UTC),
        values={"input_price_per_mtok": "2.75", "parameters": "0.5"},
    )
    exported = catalog_export()
    facts = yaml.safe_load(exported)["tools"][0]["facts"]
    assert {"key": "input_price_per_mtok", "value": 2.5,
            "source": "https://openai.com/api/pricing/", "title": "OpenAI API pricing",
            "read": dt.date(2026, 11, 1)} in facts  # fmt: skip
    assert len(facts) == 6
    before = list(Fact.objects.order_by("pk").values()), FactChange.objects.count()

    report = catalog_import(path=catalog_file(exported, "out.yaml"))

    assert report.unchanged == ["gpt-4o"]
    assert (list(Fact.objects.order_by("pk").values()), FactChange.objects.count()) == before
    assert catalog_export() == exported


def test_an_edited_value_in_a_file_is_a_change_with_history(catalog_file):
    catalog_import(path=catalog_file(WITH_FACTS))
    edited = WITH_FACTS.replace("value: 2.5", "value: 2.0").replace(
        "read: 2026-11-01\n      - key: context", "read: 2026-11-20\n      - key: context"
    )
    report = catalog_import(path=catalog_file(edited, "edited.yaml"))
    assert report.updated == ["gpt-4o"]
    change = fact_history(_tool_id())[0]
    assert (change.key, change.old, change.new) == (
        "input_price_per_mtok",
        Decimal("2.5"),
        Decimal("2"),
    )
    assert change.read_at == dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            ("key: context_window", "key: context_length"),
            r"catalog.yaml:13: tools\[0\] \(slug 'gpt-4o'\), field 'facts.1.key': "
            r"unknown fact key 'context_length' \(known: input_price_per_mtok",
        ),
        (
            ("value: 128000", "value: -1"),
            r"catalog.yaml:14: tools\[0\] \(slug 'gpt-4o'\), field 'facts.1.value': "
            r"fact 'context_window': value -1 is not between 1 and",
        ),
        (
            ("value: 2.5", "value: cheap"),
            r"catalog.yaml:9: .*field 'facts.0.value': "
            r"fact 'input_price_per_mtok': value 'cheap' is not a number",
        ),
        (
            ("read: 2026-11-01\n      - key: context", "read: 2999-01-01\n      - key: context"),
            r"catalog.yaml:12: .*field 'facts.0.read': 2999-01-01 is in the future",
        ),
        (
            ("source: https://openai.com/api/pricing/", "source: openai pricing"),
            r"catalog.yaml:10: .*field 'facts.0.source': .*URL",
        ),
        (
            ("    title: OpenAI API pricing\n", "    title: OpenAI API pricing\n        by: me\n"),
            r"catalog.yaml:12: .*field 'facts.0.by': unknown field",
        ),
        (
            ("key: open_weights\n        value: false", "key: context_window\n        value: 8000"),
            r"catalog.yaml:7: .*field 'facts': .*fact 'context_window' from "
            r"https://platform.openai.com/docs/models/gpt-4o is listed twice",
        ),
    ],
)
def test_a_bad_fact_names_file_line_and_field_and_writes_nothing(catalog_file, edit, message):
    old, new = edit
    assert old in WITH_FACTS
    before = db_snapshot()
    with pytest.raises(CatalogError) as caught:
        catalog_import(path=catalog_file(WITH_FACTS.replace(old, new, 1)))
    assert any(re.search(message, str(p)) for p in caught.value.problems), caught.value
    assert db_snapshot() == before and not Fact.objects.exists()
