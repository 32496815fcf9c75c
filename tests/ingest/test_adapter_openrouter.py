"""OpenRouter's model list, served in its documented shape from the loopback server."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shipwith.ingest.adapters import adapter_for
from shipwith.ingest.adapters.base import SourceFormatError
from shipwith.ingest.items import Item, ItemProblem
from tests.ingest.server import fixture


def run(server, fetcher, name, **options):
    url = server.serve("/api/v1/models", fixture(name), etag='"or-1"')
    adapter = adapter_for("openrouter")(url=url, options=options, fetcher=fetcher)
    return list(adapter.items())


def test_models_become_items_with_prices_per_million_tokens(server, fetcher):
    items = {item.key: item for item in run(server, fetcher, "openrouter_models.json")}

    gpt = items["openai/gpt-4o"]
    assert isinstance(gpt, Item)
    assert (gpt.name, gpt.vendor) == ("GPT-4o", "OpenAI")
    assert gpt.url == "https://openrouter.ai/openai/gpt-4o"
    assert gpt.identifiers.openrouter == "openai/gpt-4o" and gpt.identifiers.huggingface is None
    # "0.0000025" and "0.00001" USD per token.
    assert gpt.facts.input_price_per_mtok == Decimal("2.5")
    assert gpt.facts.output_price_per_mtok == Decimal("10")
    assert gpt.facts.context_window == 128000
    assert gpt.facts.max_output_tokens == 16384  # top_provider.max_completion_tokens
    assert (gpt.facts.input_modalities, gpt.facts.output_modalities) == (
        ["image", "text"],
        ["text"],
    )
    assert gpt.facts.open_weights is None
    assert gpt.seen_at == datetime(2024, 5, 13, tzinfo=UTC)
    assert gpt.facts.release_date == date(2024, 5, 13)
    assert gpt.category_hint == "hosted-models"

    llama = items["meta-llama/llama-3.1-8b-instruct"]
    assert llama.identifiers.huggingface == "meta-llama/Llama-3.1-8B-Instruct"
    assert llama.facts.open_weights is True and llama.facts.licence_kind == "open_weights"
    assert llama.facts.input_price_per_mtok == Decimal("0.02")
    assert llama.category_hint == "open-weight-models"

    quill = items["acme/quill-2"]
    # The id, as the catalog keeps it, not the dated canonical slug "acme/quill-2-20261120".
    assert quill.identifiers.openrouter == "acme/quill-2"
    assert quill.facts.description == "Quill 2 is Acme's long-context writing model."


def test_second_run_answers_304_and_yields_nothing(server, fetcher):
    assert len(run(server, fetcher, "openrouter_models.json")) == 4
    adapter = adapter_for("openrouter")(
        url=server.url("/api/v1/models"), options={}, fetcher=fetcher
    )
    assert list(adapter.items()) == []
    assert server.seen("/api/v1/models")[-1].headers["If-None-Match"] == '"or-1"'


def test_bad_records_are_problems_naming_the_item_and_the_rest_still_come(server, fetcher):
    results = run(server, fetcher, "openrouter_models_bad.json")
    problems = {r.key: r.message for r in results if isinstance(r, ItemProblem)}
    items = [r.key for r in results if isinstance(r, Item)]

    assert problems == {
        "openai/gpt-4o": "created 'yesterday' is not a date",
        "meta-llama/llama-3.1-8b-instruct": "pricing.prompt '-1' is negative",
        "mistralai/mistral-nemo": "pricing.completion 'abc' is not a number",
        "acme/quill-2": "description None is not text",
        "#5": "str where an object was expected",
    }
    assert items == ["acme/ledger-1"]


def test_malformed_json_fails_the_source_with_the_place(server, fetcher):
    with pytest.raises(SourceFormatError, match=r"malformed JSON at line \d+, column \d+"):
        run(server, fetcher, "openrouter_models_malformed.json")


def test_a_body_without_a_data_list_is_not_openrouter(server, fetcher):
    url = server.serve("/api/v1/models", b'{"error": {"message": "maintenance"}}')
    adapter = adapter_for("openrouter")(url=url, options={}, fetcher=fetcher)
    with pytest.raises(SourceFormatError, match='expected a "data" list'):
        list(adapter.items())


def test_unknown_option_is_refused_when_the_source_is_set_up(fetcher):
    with pytest.raises(SourceFormatError, match="openrouter sources have no option min_likes"):
        adapter_for("openrouter")(url="", options={"min_likes": "3"}, fetcher=fetcher)


def test_unknown_kind_names_the_kinds_there_are():
    with pytest.raises(SourceFormatError, match=r"no source kind 'rss' \(kinds: .*openrouter"):
        adapter_for("rss")


def test_json_nested_beyond_reason_fails_the_source_not_the_worker(server, fetcher):
    url = server.serve("/api/v1/models", b"[" * 100_000 + b"]" * 100_000)
    adapter = adapter_for("openrouter")(url=url, options={}, fetcher=fetcher)
    with pytest.raises(SourceFormatError, match="nested too deeply"):
        list(adapter.items())


def test_a_value_the_fact_registry_refuses_is_that_models_problem(server, fetcher):
    document = json.loads(fixture("openrouter_models.json"))
    document["data"][0]["architecture"]["input_modalities"] = 42
    document["data"][1]["top_provider"]["max_completion_tokens"] = -5
    url = server.serve("/api/v1/models", json.dumps(document).encode())
    results = list(adapter_for("openrouter")(url=url, options={}, fetcher=fetcher).items())

    problems = {r.key: r.message for r in results if isinstance(r, ItemProblem)}
    assert problems == {
        "openai/gpt-4o": "architecture.input_modalities 42 is not a list of words",
        "meta-llama/llama-3.1-8b-instruct": (
            "top_provider.max_completion_tokens -5 is not between 1 and 10,000,000,000"
        ),
    }
    assert [r.key for r in results if isinstance(r, Item)] == [
        "mistralai/mistral-nemo",
        "acme/quill-2",
    ]
