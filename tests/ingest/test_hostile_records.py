"""One hostile record never stops its source: it is skipped and named, the others are stored;
a value the catalog cannot hold is refused on accept with a message, never a crash."""

import io
import json
import logging
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils.text import capfirst

from shipwith.catalog.models import PriceChange, Tool, Vendor
from shipwith.ingest.adapters.openrouter import OpenRouterAdapter
from shipwith.ingest.categorise import Categoriser
from shipwith.ingest.decisions import candidate_accept
from shipwith.ingest.errors import IngestError
from shipwith.ingest.models import Candidate, IngestSource, Status
from shipwith.ingest.run import items_ingest
from tests.ingest.conftest import make_item
from tests.ingest.server import fixture
from tests.ingest.test_page_read import deep_json_ld_page

pytestmark = pytest.mark.django_db

OPENROUTER = "/api/v1/models"
HN = "/api/v1/search_by_date?tags=show_hn&hitsPerPage=100"
# A price no column of the catalog holds (numeric(12, 4): below 10^8).
TOO_DEAR = "1000000000"


@pytest.fixture
def loopback(settings):
    settings.SHIPWITH_INGEST_ALLOW_PRIVATE = True
    settings.SHIPWITH_INGEST_HOST_DELAY = 0
    settings.SHIPWITH_INGEST_RETRIES = 0
    settings.SHIPWITH_INGEST_READ_TIMEOUT = 2
    settings.SHIPWITH_INGEST_TOTAL_TIMEOUT = 5


def openrouter_priced(prompts: dict[str, str]) -> bytes:
    """OpenRouter's model list with the prompt price of some models replaced."""
    document = json.loads(fixture("openrouter_models.json"))
    for model in document["data"]:
        if model["id"] in prompts:
            model["pricing"]["prompt"] = prompts[model["id"]]
    return json.dumps(document).encode()


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- a run


def test_a_price_beyond_what_the_catalog_holds_skips_that_model_not_the_source(
    server, loopback, categories
):
    server.serve(
        OPENROUTER,
        openrouter_priced({"acme/quill-2": "1e30", "mistralai/mistral-nemo": "1000"}),
    )
    run("ingest", "sources", "add", "openrouter", "--kind", "openrouter",
        "--url", server.url(OPENROUTER), "--no-baseline")  # fmt: skip

    out, err = run("ingest", "run")  # no source failed: no CommandError

    assert "openrouter: 4 items, 2 new candidates" in out and "2 items skipped" in out
    source = IngestSource.objects.get()
    assert source.failures_in_row == 0 and source.last_success_at is not None
    for problem in (
        "source 'openrouter', item 'acme/quill-2': pricing.prompt '1e30' is beyond what the "
        "catalog holds (at most 99999999.9999 USD per 1M tokens)",
        "source 'openrouter', item 'mistralai/mistral-nemo': pricing.prompt '1000' is beyond",
    ):
        assert problem in source.last_error and problem in err
    assert set(Candidate.objects.values_list("name", flat=True)) == {
        "GPT-4o",
        "Llama 3.1 8B Instruct",
    }


def test_a_linked_page_with_json_ld_nested_600_deep_is_read(server, loopback, categories):
    body = fixture("hackernews_show_hn.json").replace(
        b"https://quill.example", server.origin.encode()
    )
    server.serve(HN, body)
    server.serve("/", fixture("page_quill.html"), content_type="text/html; charset=utf-8")
    server.serve("/relay/", deep_json_ld_page(600), content_type="text/html; charset=utf-8")
    run("ingest", "sources", "add", "show-hn", "--kind", "hackernews", "--url", server.url(HN))

    run("ingest", "run")

    source = IngestSource.objects.get()
    assert source.failures_in_row == 0 and "Relay" not in source.last_error
    relay = Candidate.objects.get(name="Relay")
    assert relay.facts["description"] == "Relay files your expense reports."
    assert Candidate.objects.filter(name="Quill").exists()


class SlipperyAdapter(OpenRouterAdapter):
    """OpenRouter's format read by a parser with a bug one record trips (one we do not know of
    yet): whatever it raises stays with that record."""

    def _item(self, record, fetched):
        if record.get("id") == "acme/quill-2":
            return 1 / 0
        return super()._item(record, fetched)


def test_a_record_that_trips_a_bug_in_its_adapter_is_skipped_and_named(
    server, fetcher, categories, make_source, caplog
):
    url = server.serve(OPENROUTER, fixture("openrouter_models.json"))
    adapter = SlipperyAdapter(url=url, options={}, fetcher=fetcher)

    with caplog.at_level(logging.WARNING):
        report = items_ingest(source=make_source(), items=adapter.items())

    assert report.problems == [
        "source 'openrouter', item 'acme/quill-2': ZeroDivisionError: division by zero"
    ]
    assert (report.items, report.created) == (4, 3)
    assert "acme/quill-2" in caplog.text and "ZeroDivisionError" in caplog.text


def test_a_record_that_trips_a_bug_while_matched_is_skipped_and_named(
    categories, make_source, monkeypatch, caplog
):
    propose = Categoriser.propose

    def slippery(self, item, **kwargs):
        if item.name == "Zorblax":
            raise RecursionError("maximum recursion depth exceeded")
        return propose(self, item, **kwargs)

    monkeypatch.setattr(Categoriser, "propose", slippery)
    items = [make_item("Zorblax", key="1"), make_item("Fnord", key="2")]

    with caplog.at_level(logging.WARNING):
        report = items_ingest(source=make_source("show-hn", "hackernews"), items=items)

    assert report.problems == [
        "source 'show-hn', item '1': RecursionError: maximum recursion depth exceeded"
    ]
    assert list(Candidate.objects.values_list("name", flat=True)) == ["Fnord"]
    assert "source 'show-hn', item '1'" in caplog.text


# ---------------------------------------------------------------- accept


def too_dear(gpt4o_mini, make_source) -> tuple[Candidate, Candidate]:
    """A new tool and a price change at a price no column holds, as a run stored them before
    prices were bounded."""
    items_ingest(
        source=make_source(),
        items=[
            make_item(
                "Zorblax",
                key="zorblax",
                vendor="Zorblax Labs",
                input_price_per_mtok=Decimal(TOO_DEAR),
                category_hint="hosted-models",
            ),
            make_item(
                "OpenAI: GPT-4o-mini",
                key="openai/gpt-4o-mini",
                openrouter="openai/gpt-4o-mini",
                input_price_per_mtok=Decimal(TOO_DEAR),
            ),
        ],
    )
    new = Candidate.objects.get(status=Status.NEW)
    update = Candidate.objects.get(status=Status.UPDATE)
    return new, update


def refusal(candidate: Candidate) -> str:
    return (
        f"candidate {candidate.pk} ({candidate.name}): price_input_per_mtok {TOO_DEAR} is beyond "
        "what the catalog holds (at most 99999999.9999 USD per 1M tokens); not accepted"
    )


def assert_nothing_written(gpt4o_mini) -> None:
    assert list(Tool.objects.values_list("slug", "price_amount")) == [
        ("gpt-4o-mini", Decimal("0.15"))
    ]
    assert not PriceChange.objects.exists()
    assert not Vendor.objects.filter(name="Zorblax Labs").exists()
    assert not Candidate.objects.filter(status=Status.ACCEPTED).exists()


def test_accept_refuses_a_price_the_catalog_cannot_hold(gpt4o_mini, make_source):
    for candidate in too_dear(gpt4o_mini, make_source):
        with pytest.raises(IngestError) as refused:
            candidate_accept(candidate_id=candidate.pk)
        assert str(refused.value) == refusal(candidate)
    assert_nothing_written(gpt4o_mini)


def test_the_cli_refuses_to_accept_a_price_the_catalog_cannot_hold(gpt4o_mini, make_source):
    new, update = too_dear(gpt4o_mini, make_source)
    err = io.StringIO()

    with pytest.raises(CommandError, match="2 of 2 not decided"):
        call_command("ingest", "accept", str(new.pk), str(update.pk), stderr=err)

    assert refusal(new) in err.getvalue() and refusal(update) in err.getvalue()
    assert_nothing_written(gpt4o_mini)


def test_the_admin_refuses_to_accept_a_price_the_catalog_cannot_hold(
    admin_client, gpt4o_mini, make_source
):
    new, update = too_dear(gpt4o_mini, make_source)

    response = admin_client.post(
        "/admin/ingest/candidate/",
        {"action": "accept", "_selected_action": [new.pk, update.pk]},
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert capfirst(refusal(new)) in page and capfirst(refusal(update)) in page
    assert_nothing_written(gpt4o_mini)


def test_a_trusted_source_skips_a_price_it_cannot_publish_and_publishes_the_rest(
    categories, make_source
):
    trusted = make_source("openrouter", "openrouter", autopublish=True)
    items = [
        make_item("Zorblax", key="zorblax", input_price_per_mtok=Decimal(TOO_DEAR),
                  category_hint="hosted-models"),
        make_item("Fnord", key="fnord", input_price_per_mtok=Decimal("0.2"),
                  category_hint="hosted-models"),
    ]  # fmt: skip

    report = items_ingest(source=trusted, items=items)

    assert report.accepted == 1 and len(report.problems) == 1
    assert report.problems[0].startswith("source 'openrouter', item 'zorblax': candidate ")
    assert report.problems[0].endswith(
        f"(Zorblax): price_input_per_mtok {TOO_DEAR} is beyond what the catalog holds "
        "(at most 99999999.9999 USD per 1M tokens); not accepted"
    )
    assert list(Tool.objects.values_list("name", "price_amount")) == [("Fnord", Decimal("0.2"))]
