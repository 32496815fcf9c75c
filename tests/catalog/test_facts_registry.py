"""The registry reads what sources write, stores one text per value, and refuses the rest."""

import datetime as dt
from decimal import Decimal

import pytest

from shipwith.catalog.facts import FACTS, FactError, Kind, fact_key, fact_keys_for, tool_kind

CONTRACT = {
    "input_price_per_mtok", "output_price_per_mtok", "context_window", "max_output_tokens",
    "input_modalities", "output_modalities", "parameters", "open_weights", "licence",
    "release_date", "latest_release", "latest_release_date", "github_stars", "hf_downloads",
}  # fmt: skip


def test_the_contract_keys_are_registered_with_units():
    assert CONTRACT <= FACTS.keys()
    assert FACTS["input_price_per_mtok"].unit == "USD per 1M tokens"
    assert FACTS["context_window"].unit == "tokens"
    assert FACTS["open_weights"].type.name == "bool"


@pytest.mark.parametrize(
    "key, raw, shown",
    [
        ("input_price_per_mtok", "0.1500", "$0.15 per 1M tokens"),
        ("input_price_per_mtok", 0.075, "$0.075 per 1M tokens"),
        ("output_price_per_mtok", 10, "$10 per 1M tokens"),
        ("context_window", "128,000", "128,000 tokens"),
        ("parameters", "70B", "70B"),
        ("parameters", "405M", "405M"),
        ("parameters", 1800, "1.8T"),
        ("open_weights", "yes", "Yes"),
        ("input_modalities", "Text, image", "image, text"),
        ("release_date", "2024-05-13", "13 May 2024"),
        ("licence", "Apache-2.0", "Apache-2.0"),
        ("github_stars", 45210, "45,210"),
    ],
)
def test_a_value_is_shown_as_readers_scan_it_and_stored_as_one_text(key, raw, shown):
    fact = FACTS[key]
    value = fact.parse(raw)
    assert fact.display(value) == shown
    assert fact.load(fact.dump(value)) == value
    assert fact.dump(fact.parse(fact.dump(value))) == fact.dump(value)


def test_equal_values_store_equal_text():
    price = FACTS["input_price_per_mtok"]
    assert price.dump(price.parse("2.50")) == price.dump(price.parse(2.5)) == "2.5"
    assert price.dump(price.parse(Decimal("100.0000"))) == "100"
    modalities = FACTS["input_modalities"]
    assert modalities.dump(modalities.parse(["image", "Text"])) == "image, text"


@pytest.mark.parametrize(
    "key, raw, message",
    [
        ("input_price_per_mtok", -1, "fact 'input_price_per_mtok': value -1 is negative"),
        ("input_price_per_mtok", "1e30", "is more than the catalog holds (at most 99999999.9999)"),
        ("input_price_per_mtok", "free", "value 'free' is not a number"),
        ("input_price_per_mtok", True, "value True is not a number"),
        ("context_window", 0, "fact 'context_window': value 0 is not between 1 and"),
        ("context_window", 1.5, "is not a whole number"),
        ("open_weights", 1, "fact 'open_weights': value 1 is not true or false"),
        ("licence", 2.0, "is not text (in a catalog file, quote it)"),
        ("licence", "x" * 121, "is longer than 120 characters"),
        ("release_date", "yesterday", "is not a date (YYYY-MM-DD)"),
        ("input_modalities", [], "is not a list of words"),
    ],
)
def test_a_bad_value_is_refused_naming_key_and_value(key, raw, message):
    with pytest.raises(FactError, match=message.replace("(", r"\(").replace(")", r"\)")):
        FACTS[key].parse(raw)


def test_an_unknown_key_lists_the_known_ones():
    with pytest.raises(FactError, match=r"unknown fact key 'price' \(known: input_price_per_mtok"):
        fact_key("price")


def test_which_facts_a_tool_has_follows_its_category():
    assert tool_kind("open-weight-models") is Kind.OPEN_WEIGHT_MODEL
    assert tool_kind("embedding-models") is Kind.HOSTED_MODEL
    assert tool_kind("vector-databases") is Kind.SOFTWARE
    model_keys = {f.key for f in fact_keys_for("hosted-models")}
    server_keys = {f.key for f in fact_keys_for("inference-servers")}
    assert {"input_price_per_mtok", "context_window", "licence"} <= model_keys
    assert "github_stars" not in model_keys and "hf_downloads" not in model_keys
    assert {"licence", "latest_release", "github_stars"} <= server_keys
    assert "context_window" not in server_keys
    assert "hf_downloads" in {f.key for f in fact_keys_for("open-weight-models")}
    assert FACTS["release_date"].parse(dt.date(2023, 6, 20)) == dt.date(2023, 6, 20)
