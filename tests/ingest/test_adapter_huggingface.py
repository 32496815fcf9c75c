"""The Hugging Face Hub's model list in its documented shape, with the default noise filters."""

import json
from datetime import date
from decimal import Decimal

import pytest

from shipwith.ingest.adapters import adapter_for
from shipwith.ingest.adapters.base import SourceFormatError
from shipwith.ingest.items import Item, ItemProblem
from tests.ingest.server import fixture

PATH = "/api/models?sort=createdAt&direction=-1&limit=100"


def run(server, fetcher, name="huggingface_models.json", **options):
    url = server.serve(PATH, fixture(name), etag='W/"hf-1"')
    return list(adapter_for("huggingface")(url=url, options=options, fetcher=fetcher).items())


def test_default_filters_keep_popular_models_of_interest(server, fetcher):
    items = {item.key: item for item in run(server, fetcher)}

    # The one-off fine-tune (0 likes) and the text classifier are left out.
    assert sorted(items) == [
        "acme-labs/Quill-7B-Instruct",
        "meta-llama/Llama-3.1-8B-Instruct",
        "nomic-ai/nomic-embed-text-v2",
    ]
    llama = items["meta-llama/Llama-3.1-8B-Instruct"]
    assert (llama.name, llama.vendor) == ("Llama-3.1-8B-Instruct", "meta-llama")
    assert llama.url == "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct"
    assert llama.identifiers.huggingface == "meta-llama/Llama-3.1-8B-Instruct"
    assert llama.facts.licence == "Llama 3.1 Community License"
    assert llama.facts.licence_kind == "open_weights" and llama.facts.open_weights
    assert llama.facts.release_date == date(2024, 7, 18)
    assert llama.facts.tags == ["text-generation"]
    assert items["acme-labs/Quill-7B-Instruct"].facts.licence == "Apache-2.0"


def test_facts_licence_downloads_and_parameters(server, fetcher):
    items = {item.key: item for item in run(server, fetcher)}

    llama = items["meta-llama/Llama-3.1-8B-Instruct"].facts
    assert llama.hf_downloads == 5210334
    assert llama.parameters == Decimal("8.03")  # safetensors.total 8,030,261,248
    assert items["acme-labs/Quill-7B-Instruct"].facts.parameters == Decimal("7.242")
    # No "license:" tag: the model card's licence.
    nomic = items["nomic-ai/nomic-embed-text-v2"].facts
    assert nomic.licence == "Apache-2.0" and nomic.parameters is None


def test_a_repository_from_before_the_hub_kept_dates_has_no_release_date(server, fetcher):
    document = json.loads(fixture("huggingface_models.json"))
    document[2]["createdAt"] = "2022-03-02T23:29:04.000Z"  # the Hub's earliest createdAt
    url = server.serve(PATH, json.dumps(document).encode())
    items = {
        item.key: item
        for item in adapter_for("huggingface")(url=url, options={}, fetcher=fetcher).items()
    }
    assert items["meta-llama/Llama-3.1-8B-Instruct"].facts.release_date is None


def test_options_from_the_cli_change_the_filters(server, fetcher):
    items = run(
        server, fetcher, min_likes="0", min_downloads="0", pipeline_tags="text-classification"
    )
    assert [item.key for item in items] == ["acme-labs/sentiment-tiny"]


def test_option_that_is_not_a_number_is_a_clear_error(fetcher):
    with pytest.raises(SourceFormatError, match=r"option min_likes='lots' is not a whole number"):
        adapter_for("huggingface")(url="", options={"min_likes": "lots"}, fetcher=fetcher)


def test_second_run_answers_304_and_yields_nothing(server, fetcher):
    run(server, fetcher)
    adapter = adapter_for("huggingface")(url=server.url(PATH), options={}, fetcher=fetcher)
    assert list(adapter.items()) == []


def test_wrong_field_types_are_problems_naming_the_model(server, fetcher):
    results = run(server, fetcher, "huggingface_models_bad.json")
    problems = {r.key: r.message for r in results if isinstance(r, ItemProblem)}
    assert problems == {
        "acme-labs/Quill-7B-Instruct": "createdAt 'yesterday' is not a date",
        "meta-llama/Llama-3.1-8B-Instruct": "likes 'many' is not a whole number",
        "nomic-ai/nomic-embed-text-v2": "tags 'license:apache-2.0' is not a list of text",
    }
    assert [r.key for r in results if isinstance(r, Item)] == []


def test_default_url_is_the_hubs_newest_models_with_the_properties_read():
    assert adapter_for("huggingface").default_url == (
        "https://huggingface.co/api/models?sort=createdAt&direction=-1&limit=100"
        "&expand=author&expand=cardData&expand=createdAt&expand=downloads&expand=likes"
        "&expand=pipeline_tag&expand=safetensors&expand=tags"
    )
