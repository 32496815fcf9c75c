"""The review queue: undecided candidates by status, and bulk accept / reject."""

from decimal import Decimal

import pytest

from shipwith.catalog.models import Tool
from shipwith.ingest.models import Candidate, Status
from shipwith.ingest.run import items_ingest
from tests.ingest.conftest import make_item

pytestmark = pytest.mark.django_db

QUEUE = "/admin/ingest/candidate/review/"


@pytest.fixture
def found(categories, gpt4o_mini, make_source) -> dict[str, Candidate]:
    """Three new tools (two with a category) and an update of GPT-4o mini."""
    hub = make_source("hf-hub", "huggingface", category_hint=categories["open-weight-models"])
    items_ingest(
        source=hub,
        items=[
            make_item("Zorblax 7B", key="zorblax/zorblax-7b", huggingface="zorblax/zorblax-7b"),
            make_item("Fnord 3B", key="fnord/fnord-3b", huggingface="fnord/fnord-3b"),
        ],
    )
    items_ingest(source=make_source("hn", "hackernews"), items=[make_item("Quux", key="1")])
    items_ingest(
        source=make_source("or", "openrouter"),
        items=[
            make_item(
                "OpenAI: GPT-4o-mini",
                key="openai/gpt-4o-mini",
                openrouter="openai/gpt-4o-mini",
                input_price_per_mtok=Decimal("0.2"),
            )
        ],
    )
    return {c.name: c for c in Candidate.objects.all()}


def test_the_queue_lists_undecided_candidates_and_filters_by_status(admin_client, found):
    page = admin_client.get(QUEUE).content.decode()
    for name in ["Zorblax 7B", "Fnord 3B", "Quux", "GPT-4o mini"]:
        assert name in page
    assert "Input price: $0.15 per 1M input tokens → $0.2 per 1M input tokens" in page
    assert "hf-hub" in page and "Open-weight models" in page
    # One tab per status the model has, each with its count.
    for label, count in [("Undecided", 4), ("New tool", 3), ("Update of a known tool", 1)]:
        assert f'{label} <span class="count">{count}</span>' in page
    updates = admin_client.get(QUEUE, {"status": "update"}).content.decode()
    assert "GPT-4o mini" in updates and "Zorblax" not in updates
    # An unknown status is no filter at all.
    assert "Zorblax" in admin_client.get(QUEUE, {"status": "nonsense"}).content.decode()


def test_bulk_accept_accepts_each_and_reports_those_it_cannot(admin_client, found):
    ids = [found[name].pk for name in ["Zorblax 7B", "Fnord 3B", "Quux", "GPT-4o mini"]]
    response = admin_client.post(QUEUE + "?status=", {"bulk": "accept", "ids": ids}, follow=True)
    page = response.content.decode()
    assert "Accepted 3 candidates." in page
    assert "(Quux) has no proposed category" in page  # the one it could not, said why
    assert set(Tool.objects.values_list("name", flat=True)) == {
        "GPT-4o mini",
        "Zorblax 7B",
        "Fnord 3B",
    }
    assert Tool.objects.get(slug="gpt-4o-mini").price_amount == Decimal("0.2")
    assert Candidate.objects.get(name="Quux").status == Status.NEW


def test_bulk_reject_needs_one_reason_and_keeps_it_on_each(admin_client, found):
    ids = [found["Zorblax 7B"].pk, found["Quux"].pk]
    page = admin_client.post(QUEUE, {"bulk": "reject", "ids": ids}, follow=True)
    assert "Write the reason for rejecting them." in page.content.decode()
    assert not Candidate.objects.filter(status=Status.REJECTED).exists()
    page = admin_client.post(
        QUEUE, {"bulk": "reject", "ids": ids, "reason": "Back catalogue noise"}, follow=True
    )
    assert "Rejected 2 candidates." in page.content.decode()
    rejected = Candidate.objects.filter(status=Status.REJECTED)
    assert {c.name for c in rejected} == {"Zorblax 7B", "Quux"}
    assert {c.rejection_reason for c in rejected} == {"Back catalogue noise"}
    # Decided candidates leave the queue.
    listing = admin_client.get(QUEUE).content.decode()
    assert "Quux" not in listing and "Fnord 3B" in listing


def test_a_bulk_decision_with_nothing_selected_changes_nothing(admin_client, found):
    page = admin_client.post(QUEUE, {"bulk": "accept"}, follow=True).content.decode()
    assert "Select the candidates to decide first." in page
    assert not Candidate.objects.filter(status=Status.ACCEPTED).exists()


def test_the_queue_shows_the_selection_controls_only_where_one_can_decide(admin_client, found):
    assert 'name="ids"' in admin_client.get(QUEUE).content.decode()
    admin_client.post(QUEUE, {"bulk": "reject", "ids": [found["Quux"].pk], "reason": "no"})
    rejected = admin_client.get(QUEUE, {"status": "rejected"}).content.decode()
    assert "Quux" in rejected and 'name="ids"' not in rejected
