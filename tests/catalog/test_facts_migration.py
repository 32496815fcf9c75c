"""An instance with price history upgrades: its price changes become fact changes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from shipwith.catalog.models import Fact, FactChange, PriceChange
from shipwith.catalog.selectors import fact_history, tool_facts

BEFORE = [("catalog", "0004_tool_created_index")]
AFTER = [("catalog", "0006_price_changes_to_facts")]
ROUTER = "https://openrouter.ai/openai/gpt-4o"


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def at(day: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, 9, 30, tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True)
def test_price_changes_become_fact_changes_with_their_source():
    apps = migrate(BEFORE)
    try:
        Category = apps.get_model("catalog", "Category")
        Tool = apps.get_model("catalog", "Tool")
        OldPriceChange = apps.get_model("catalog", "PriceChange")
        category = Category.objects.create(slug="hosted-models", name="Hosted models")
        tool = Tool.objects.create(name="GPT-4o", slug="gpt-4o", category=category)
        router = f"openrouter {ROUTER}"
        rows = [
            # (old, new, currency, unit, day, source) as ingest wrote them
            (None, "5.0000", "USD", "1M input tokens", 1, router),
            ("5.0000", "2.5000", "USD", "1M input tokens", 3, router),
            (None, "10", "USD", "1M output tokens", 2, "OpenAI pricing page"),
            ("20", "25", "USD", "", 4, ""),  # a monthly price: no fact key has it
            ("1", "2", "EUR", "1M input tokens", 5, ""),  # not USD
            ("1", "2", "USD", "1M tokens", 6, ""),  # input or output?
        ]
        for old, new, currency, unit, day, source in rows:
            OldPriceChange.objects.create(
                tool=tool,
                field="price_amount",
                old=Decimal(old) if old else None,
                new=Decimal(new),
                currency=currency,
                unit=unit,
                changed_at=at(day),
                source=source,
            )
    finally:
        migrate(AFTER)

    newest, second, oldest = fact_history(tool.pk)
    assert (newest.key, newest.old, newest.new, newest.read_at) == (
        "input_price_per_mtok",
        Decimal("5"),
        Decimal("2.5"),
        at(3),
    )
    assert newest.text == "$5 → $2.50 per 1M tokens"
    assert (newest.source.url, newest.source.title) == (ROUTER, "openrouter")
    assert (second.key, second.old, second.new) == ("output_price_per_mtok", None, Decimal("10"))
    assert (second.source.url, second.source.title) == ("", "OpenAI pricing page")
    assert (oldest.old, oldest.new) == (None, Decimal("5"))
    assert FactChange.objects.count() == 3
    assert PriceChange.objects.count() == 6  # kept, with the rows no fact key has, until it goes

    # The newest price from each source is its current fact, so its next reading goes on from it.
    input_price, output_price = tool_facts(tool.pk, now=at(10))
    assert (input_price.value, input_price.read_at, input_price.source.url) == (
        Decimal("2.5"),
        at(3),
        ROUTER,
    )
    assert output_price.value == Decimal("10")
    assert Fact.objects.count() == 2
