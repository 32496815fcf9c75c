"""Recording what a source says: read back with source and date, history kept, pages told."""

import datetime as dt
from decimal import Decimal

import pytest

from shipwith.catalog.facts import FactError
from shipwith.catalog.models import Fact, FactChange
from shipwith.catalog.readings import FactChanged, facts_record
from shipwith.catalog.selectors import FactSource, fact_history, tool_facts
from shipwith.core.freshness import tools_version
from tests.catalog.facts_helpers import OPENAI, OPENROUTER, days_ago, make_tool

pytestmark = pytest.mark.django_db


def record(tool, read_at, source=OPENAI, title="OpenAI pricing", **values):
    return facts_record(
        tool_id=tool.pk, source_url=source, source_title=title, read_at=read_at, values=values
    )


def test_a_recorded_fact_reads_back_with_its_source_and_date():
    tool = make_tool()
    read = days_ago(2)
    record(tool, read, input_price_per_mtok="2.50", context_window=128000, open_weights=False)

    price, context, weights = tool_facts(tool.pk)
    assert (price.key, price.label, price.text) == (
        "input_price_per_mtok",
        "Input price",
        "$2.50 per 1M tokens",
    )
    assert price.value == Decimal("2.5") and price.unit == "USD per 1M tokens"
    assert price.source == FactSource(OPENAI, "OpenAI pricing")
    assert price.read_at == read and not price.stale and price.conflicts == ()
    assert context.text == "128,000 tokens"
    assert weights.value is False and weights.text == "No"


def test_a_change_is_history_and_a_reread_only_moves_the_date():
    tool = make_tool()
    first = record(tool, days_ago(10), input_price_per_mtok="0.15")
    assert first == [FactChanged("input_price_per_mtok", None, Decimal("0.15"))]

    assert record(tool, days_ago(5), input_price_per_mtok="0.150") == []
    [fact] = tool_facts(tool.pk)
    assert fact.read_at > days_ago(6) and fact.value == Decimal("0.15")
    assert FactChange.objects.count() == 1

    changed = record(tool, days_ago(1), input_price_per_mtok=0.2)
    assert changed == [FactChanged("input_price_per_mtok", Decimal("0.15"), Decimal("0.2"))]
    newest, oldest = fact_history(tool.pk)
    assert (newest.old, newest.new, newest.text) == (
        Decimal("0.15"),
        Decimal("0.2"),
        "$0.15 → $0.20 per 1M tokens",
    )
    assert newest.source == FactSource(OPENAI, "OpenAI pricing")
    assert (oldest.old, oldest.text) == (None, "none → $0.15 per 1M tokens")
    assert Fact.objects.get().value == "0.2"


def test_two_sources_that_disagree_are_both_kept_and_shown_as_a_conflict():
    tool = make_tool()
    record(tool, days_ago(3), input_price_per_mtok="2.50")
    record(tool, days_ago(1), source=OPENROUTER, title="OpenRouter", input_price_per_mtok="2.75")

    [price] = tool_facts(tool.pk)
    assert price.text == "$2.75 per 1M tokens" and price.source.url == OPENROUTER
    [other] = price.conflicts
    assert other.text == "$2.50 per 1M tokens" and other.source.url == OPENAI
    assert other.read_at < price.read_at
    assert Fact.objects.count() == 2

    # Re-reading the older source does not make its old value the news: the choice stays.
    record(tool, days_ago(0), input_price_per_mtok="2.50")
    assert tool_facts(tool.pk)[0].source.url == OPENROUTER


def test_a_stale_value_gives_way_to_a_fresh_one():
    tool = make_tool()
    record(tool, days_ago(40), source=OPENROUTER, title="OpenRouter", context_window=200000)
    record(tool, days_ago(45), context_window=128000)
    [context] = tool_facts(tool.pk)
    assert context.value == 200000 and context.stale
    record(tool, days_ago(1), context_window=128000)
    [context] = tool_facts(tool.pk)
    assert context.value == 128000 and not context.stale
    assert [c.value for c in context.conflicts] == [200000] and context.conflicts[0].stale


def test_sources_that_agree_are_no_conflict():
    tool = make_tool()
    record(tool, days_ago(2), licence="Apache-2.0")
    record(tool, days_ago(1), source=OPENROUTER, licence="Apache-2.0")
    assert tool_facts(tool.pk)[0].conflicts == ()


def test_an_older_reading_does_not_put_back_what_a_newer_one_replaced():
    tool = make_tool()
    record(tool, days_ago(1), input_price_per_mtok="0.2")
    assert record(tool, days_ago(3), input_price_per_mtok="0.15") == []
    assert tool_facts(tool.pk)[0].value == Decimal("0.2")


def test_a_fact_a_source_stops_giving_is_history_too():
    tool = make_tool()
    record(tool, days_ago(2), max_output_tokens=16384)
    assert record(tool, days_ago(1), max_output_tokens=None) == [
        FactChanged("max_output_tokens", 16384, None)
    ]
    assert tool_facts(tool.pk) == []
    assert fact_history(tool.pk)[0].text == "16,384 → none"


def test_a_bad_value_writes_nothing_and_names_key_and_value():
    tool = make_tool()
    with pytest.raises(FactError, match="fact 'context_window': value -5 is not between 1 and"):
        record(tool, days_ago(1), input_price_per_mtok="0.15", context_window=-5)
    with pytest.raises(FactError, match="unknown fact key 'colour'"):
        record(tool, days_ago(1), colour="blue")
    with pytest.raises(FactError, match="is in the future"):
        record(tool, days_ago(-3), licence="MIT")
    with pytest.raises(FactError, match="is not an http"):
        record(tool, days_ago(1), source="javascript:alert(1)", licence="MIT")
    assert not Fact.objects.exists() and not FactChange.objects.exists()


def test_pages_are_told_of_a_change_and_of_a_new_day_but_not_of_a_reread():
    tool, other = make_tool(), make_tool("claude")
    lists = tools_version(other.pk, lists=True)  # the lists' stamp, and no stamp of this tool
    page = tools_version(tool.pk)
    record(tool, days_ago(3), input_price_per_mtok="0.15")
    assert tools_version(tool.pk) != page and tools_version(other.pk, lists=True) != lists

    lists, page = tools_version(other.pk, lists=True), tools_version(tool.pk)
    read = days_ago(1).replace(hour=8)
    record(tool, read, input_price_per_mtok="0.15")  # "read on" shows a new day
    assert tools_version(tool.pk) != page and tools_version(other.pk, lists=True) == lists

    page = tools_version(tool.pk)
    record(tool, read + dt.timedelta(hours=1), input_price_per_mtok="0.15")
    assert tools_version(tool.pk) == page


def test_a_counter_moves_without_a_history_row():
    tool = make_tool("vllm", category="inference-servers")
    record(tool, days_ago(2), source="https://github.com/vllm-project/vllm", github_stars=45000)
    changed = record(
        tool, days_ago(1), source="https://github.com/vllm-project/vllm", github_stars=45210
    )
    assert changed == [FactChanged("github_stars", 45000, 45210)]
    assert tool_facts(tool.pk)[0].text == "45,210"
    assert fact_history(tool.pk) == []
