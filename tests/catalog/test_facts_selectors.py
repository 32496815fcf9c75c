"""Pages read many tools' facts in one query, however many tools the catalog holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shipwith.catalog.models import Category, Fact, Tool
from shipwith.catalog.selectors import facts_for_tools
from tests.catalog.facts_helpers import OPENAI, OPENROUTER, days_ago

pytestmark = pytest.mark.django_db


def make_tools(count: int) -> list[int]:
    category = Category.objects.create(slug="hosted-models", name="Hosted models")
    tools = Tool.objects.bulk_create(
        Tool(name=f"Model {n}", slug=f"model-{n}", category=category) for n in range(count)
    )
    read = days_ago(1)
    Fact.objects.bulk_create(
        Fact(tool=tool, key=key, value=value, source_url=url, read_at=read, changed_at=read)
        for tool in tools
        for key, value, url in [
            ("input_price_per_mtok", "2.5", OPENAI),
            ("input_price_per_mtok", "2.75", OPENROUTER),
            ("context_window", "128000", OPENAI),
            ("licence", "Proprietary", OPENAI),
        ]
    )
    return [tool.pk for tool in tools]


def queries_for(tool_ids: list[int]) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        facts = facts_for_tools(tool_ids)
    return len(queries), facts


def test_the_batched_read_takes_one_query_for_2_or_200_tools():
    ids = make_tools(200)
    few, facts = queries_for(ids[:2])
    many, all_facts = queries_for(ids)
    assert few == many == 1
    assert len(all_facts) == 200
    price, context, licence = all_facts[ids[-1]]
    assert (price.key, context.key, licence.key) == (
        "input_price_per_mtok",
        "context_window",
        "licence",
    )
    assert len(price.conflicts) == 1 and context.text == "128,000 tokens"


def test_every_tool_asked_for_has_an_entry():
    ids = make_tools(1)
    facts = facts_for_tools([*ids, 999_999])
    assert facts[999_999] == [] and len(facts[ids[0]]) == 3
