"""models.dev's api.json: release date, open weights and price per 1M tokens, by provider."""

import json
from datetime import date
from decimal import Decimal

from shipwith.ingest.adapters import adapter_for
from shipwith.ingest.items import Item, ItemProblem
from tests.ingest.server import fixture


def run(server, fetcher, **options):
    url = server.serve("/api.json", fixture("modelsdev_api.json"), etag='"md-1"')
    return list(adapter_for("modelsdev")(url=url, options=options, fetcher=fetcher).items())


def test_labs_models_with_prices_and_open_weights(server, fetcher):
    results = run(server, fetcher)
    items = {r.key: r for r in results if isinstance(r, Item)}

    # Deep Infra resells models: not one of the labs read by default.
    assert sorted(items) == ["mistral/mistral-nemo", "openai/gpt-4o", "openai/gpt-oss-120b"]
    gpt = items["openai/gpt-4o"]
    assert (gpt.name, gpt.vendor) == ("GPT-4o", "OpenAI")
    assert gpt.facts.input_price_per_mtok == Decimal("2.5")
    assert gpt.facts.output_price_per_mtok == Decimal("10")
    assert gpt.facts.open_weights is False and gpt.facts.licence_kind == "proprietary"
    assert gpt.facts.release_date == date(2024, 5, 13) and gpt.facts.context_window == 128000
    assert gpt.facts.max_output_tokens == 16384  # limit.output
    assert gpt.facts.input_modalities == ["image", "pdf", "text"]
    assert gpt.facts.output_modalities == ["text"]
    oss = items["openai/gpt-oss-120b"]
    assert oss.facts.open_weights and oss.facts.licence_kind == "open_weights"
    assert oss.facts.release_date == date(2025, 8, 1)  # "2025-08": a month
    assert oss.category_hint == "open-weight-models"


def test_bad_models_are_problems_and_the_others_still_come(server, fetcher):
    problems = {r.key: r.message for r in run(server, fetcher) if isinstance(r, ItemProblem)}
    assert problems == {
        "mistral/broken-date": "release_date 'yesterday' is not a date",
        "mistral/negative-price": "cost.input -1 is negative",
    }


def test_providers_option(server, fetcher):
    items = [r.key for r in run(server, fetcher, providers="deepinfra") if isinstance(r, Item)]
    assert items == ["deepinfra/mistralai/Mistral-Nemo-Instruct-2407"]


def test_second_run_answers_304_and_yields_nothing(server, fetcher):
    run(server, fetcher)
    url = server.url("/api.json")
    assert list(adapter_for("modelsdev")(url=url, options={}, fetcher=fetcher).items()) == []


def test_a_limit_of_0_is_not_given_and_a_refused_value_is_the_models_problem(server, fetcher):
    document = json.loads(fixture("modelsdev_api.json"))
    models = document["openai"]["models"]
    models["gpt-4o"]["limit"] = {"context": 128000, "output": 0}  # the schema allows 0
    models["gpt-oss-120b"]["modalities"] = {"input": ["text", "x" * 30], "output": ["text"]}
    url = server.serve("/api.json", json.dumps(document).encode())
    results = list(adapter_for("modelsdev")(url=url, options={}, fetcher=fetcher).items())

    items = {r.key: r for r in results if isinstance(r, Item)}
    assert items["openai/gpt-4o"].facts.max_output_tokens is None
    assert items["openai/gpt-4o"].facts.context_window == 128000
    problems = {r.key: r.message for r in results if isinstance(r, ItemProblem)}
    assert problems["openai/gpt-oss-120b"] == (
        f"modalities.input ['text', '{'x' * 30}'] is longer than 20 characters"
    )
    assert "mistral/mistral-nemo" in items
