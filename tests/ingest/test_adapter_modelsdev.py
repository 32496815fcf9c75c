"""models.dev's api.json: release date, open weights and price per 1M tokens, by provider."""

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
    assert gpt.facts.price_input_per_mtok == Decimal("2.5")
    assert gpt.facts.price_output_per_mtok == Decimal("10")
    assert gpt.facts.open_weights is False and gpt.facts.licence_kind == "proprietary"
    assert gpt.facts.release_date == date(2024, 5, 13) and gpt.facts.context_length == 128000
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
