"""Accept and reject: a new tool with dated sources and a queued panel; an update applied and
kept as history; a rejection remembered."""

from decimal import Decimal

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shipwith.catalog.models import PriceChange, Tool
from shipwith.catalog.readings import facts_record
from shipwith.catalog.selectors import FactSource, tool_facts
from shipwith.ingest.decisions import candidate_accept, candidate_reject
from shipwith.ingest.errors import IngestError
from shipwith.ingest.models import Candidate, Mention, Status
from shipwith.ingest.run import items_ingest
from shipwith.panel.models import PanelRun
from tests.ingest.conftest import make_item

pytestmark = pytest.mark.django_db


def priced(price: str):
    return make_item(
        "OpenAI: GPT-4o-mini",
        key="openai/gpt-4o-mini",
        openrouter="openai/gpt-4o-mini",
        input_price_per_mtok=Decimal(price),
        url="https://openrouter.ai/openai/gpt-4o-mini",
    )


def queued_panels(tool: Tool) -> int:
    runs = PanelRun.objects.filter(tool=tool).values_list("pk", flat=True)
    return sum(
        1
        for task in DBTaskResult.objects.filter(task_path__endswith="panel_run_task")
        if task.args_kwargs["args"][0] in runs
    )


def new_candidate(make_source) -> Candidate:
    items_ingest(
        source=make_source("hf-hub", "huggingface"),
        items=[
            make_item(
                "OLMo-2-1124-13B-Instruct",
                key="allenai/OLMo-2-1124-13B-Instruct",
                vendor="allenai",
                huggingface="allenai/OLMo-2-1124-13B-Instruct",
                licence="Apache-2.0",
                licence_kind="open_weights",
                description="A fully open 13B language model from Ai2.",
                page_text="OLMo 2 13B Instruct is a post-trained variant of OLMo 2 13B.",
                url="https://huggingface.co/allenai/OLMo-2-1124-13B-Instruct",
            )
        ],
    )
    return Candidate.objects.get()


def test_accepting_a_new_candidate_creates_the_tool_with_dated_sources_and_a_queued_panel(
    categories, make_source, django_capture_on_commit_callbacks
):
    candidate = new_candidate(make_source)
    with django_capture_on_commit_callbacks(execute=True):
        tool = candidate_accept(candidate_id=candidate.pk)
    assert tool.category.slug == "open-weight-models"
    assert tool.huggingface_id == "allenai/olmo-2-1124-13b-instruct"
    assert (tool.licence, tool.licence_kind) == ("Apache-2.0", "open_weights")
    [source] = tool.sources.all()
    assert source.checked_on == timezone.now().date()
    assert source.snapshot == "OLMo 2 13B Instruct is a post-trained variant of OLMo 2 13B."
    assert queued_panels(tool) == 1
    candidate.refresh_from_db()
    assert (candidate.status, candidate.tool) == (Status.ACCEPTED, tool)


def test_accepting_a_new_tool_records_each_sources_facts_with_its_source(categories, make_source):
    items_ingest(
        source=make_source("openrouter", "openrouter"),
        items=[
            make_item(
                "Meta: Llama 3.3 70B Instruct",
                key="meta-llama/llama-3.3-70b-instruct",
                openrouter="meta-llama/llama-3.3-70b-instruct",
                huggingface="meta-llama/Llama-3.3-70B-Instruct",
                input_price_per_mtok=Decimal("0.13"),
                context_window=131072,
                url="https://openrouter.ai/meta-llama/llama-3.3-70b-instruct",
            )
        ],
    )
    items_ingest(
        source=make_source("hf-hub", "huggingface"),
        items=[
            make_item(
                "Llama-3.3-70B-Instruct",
                key="meta-llama/Llama-3.3-70B-Instruct",
                huggingface="meta-llama/Llama-3.3-70B-Instruct",
                licence="Llama 3.3 Community License",
                context_window=128000,
                parameters=Decimal("70.6"),
                url="https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct",
            )
        ],
    )
    tool = candidate_accept(
        candidate_id=Candidate.objects.get().pk, category_slug="open-weight-models"
    )

    rows = {row.key: row for row in tool_facts(tool.pk)}
    assert rows["input_price_per_mtok"].source == FactSource(
        "https://openrouter.ai/meta-llama/llama-3.3-70b-instruct", "OpenRouter model list"
    )
    assert rows["licence"].source.url == "https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct"
    assert rows["parameters"].text == "70.6B"
    # The two sources disagree on the context window: both kept.
    context = rows["context_window"]
    assert {context.value, *(c.value for c in context.conflicts)} == {131072, 128000}
    assert {row.read_at.date() for row in rows.values()} == {timezone.now().date()}


def test_a_candidate_stored_before_facts_took_the_registrys_names_is_accepted(
    categories, make_source
):
    items_ingest(
        source=make_source("openrouter", "openrouter"),
        items=[make_item("Zorblax", key="zorblax", category_hint="hosted-models")],
    )
    legacy = {"price_input_per_mtok": "0.4", "context_length": 32000}
    Mention.objects.update(facts=legacy)
    origins = {"price_input_per_mtok": Mention.objects.get().pk}
    Candidate.objects.update(facts=legacy, fact_mentions=origins)

    tool = candidate_accept(candidate_id=Candidate.objects.get().pk)

    assert tool.entry_price == "$0.40 per 1M input tokens"
    assert {row.key: row.value for row in tool_facts(tool.pk)} == {
        "input_price_per_mtok": Decimal("0.4"),
        "context_window": 32000,
    }


def test_an_accepted_tool_is_not_proposed_again(categories, make_source):
    candidate = new_candidate(make_source)
    candidate_accept(candidate_id=candidate.pk)
    report = items_ingest(
        source=candidate.mentions.get().source,
        items=[
            make_item(
                "OLMo 2 1124 13B Instruct", key="x", huggingface="allenai/OLMo-2-1124-13B-Instruct"
            )
        ],
    )
    assert report.created == 1  # the known tool's duplicate record, not a new proposal
    assert not Candidate.objects.filter(status=Status.NEW).exists()


def test_a_new_candidate_without_a_category_needs_one(categories, make_source):
    items_ingest(source=make_source("hn", "hackernews"), items=[make_item("Zorblax", key="1")])
    candidate = Candidate.objects.get()
    candidate.category = None
    candidate.save()
    with pytest.raises(IngestError, match="no proposed category"):
        candidate_accept(candidate_id=candidate.pk)
    tool = candidate_accept(candidate_id=candidate.pk, category_slug="inference-servers")
    assert tool.category.slug == "inference-servers"
    assert Candidate.objects.get().category_chosen  # the editor's, shown so in the admin


def test_accepting_a_price_change_applies_it_keeps_history_and_queues_a_re_review(
    gpt4o_mini, make_source, client, django_capture_on_commit_callbacks
):
    items_ingest(source=make_source(), items=[priced("0.20")])
    candidate = Candidate.objects.get(status=Status.UPDATE)
    with django_capture_on_commit_callbacks(execute=True):
        candidate_accept(candidate_id=candidate.pk)
    gpt4o_mini.refresh_from_db()
    assert gpt4o_mini.price_amount == Decimal("0.20")
    assert gpt4o_mini.entry_price == "$0.20 per 1M input tokens"
    [change] = PriceChange.objects.all()
    assert (change.old, change.new) == (Decimal("0.15"), Decimal("0.20"))
    assert change.source == "openrouter https://openrouter.ai/openai/gpt-4o-mini"
    assert queued_panels(gpt4o_mini) == 1

    page = client.get("/tools/gpt-4o-mini/").content.decode()
    today = timezone.now()
    assert f"Input price</span> <span>$0.15 → $0.20 per 1M tokens since {today:%-d %b %Y}" in page

    # The next run sees the new price: nothing to propose.
    report = items_ingest(source=make_source("openrouter-2"), items=[priced("0.20")])
    assert report.created == 1
    assert Candidate.objects.filter(status=Status.UPDATE).count() == 0


def test_a_stale_update_is_refused_and_nothing_changes(gpt4o_mini, make_source):
    items_ingest(source=make_source(), items=[priced("0.20")])
    candidate = Candidate.objects.get(status=Status.UPDATE)
    Tool.objects.filter(pk=gpt4o_mini.pk).update(price_amount=Decimal("0.18"))
    with pytest.raises(IngestError, match="no longer"):
        candidate_accept(candidate_id=candidate.pk)
    assert Tool.objects.get(pk=gpt4o_mini.pk).price_amount == Decimal("0.18")
    assert not PriceChange.objects.exists()
    assert Candidate.objects.get(pk=candidate.pk).status == Status.UPDATE


def test_a_fact_change_its_source_no_longer_holds_is_refused(gpt4o_mini, make_source):
    source = make_source()

    def listing(output: str):
        return make_item(
            "OpenAI: GPT-4o-mini",
            key="openai/gpt-4o-mini",
            openrouter="openai/gpt-4o-mini",
            output_price_per_mtok=Decimal(output),
            url="https://openrouter.ai/openai/gpt-4o-mini",
        )

    items_ingest(source=source, items=[listing("0.6")])
    items_ingest(source=source, items=[listing("0.8")])
    update = Candidate.objects.get(status=Status.UPDATE)
    assert update.changes == {"fact:output_price_per_mtok": ["0.6", "0.8"]}
    # Meanwhile the same source was recorded saying something else (a catalog import, say).
    facts_record(
        tool_id=gpt4o_mini.pk,
        source_url="https://openrouter.ai/openai/gpt-4o-mini",
        read_at=timezone.now(),
        values={"output_price_per_mtok": "0.7"},
    )
    with pytest.raises(IngestError, match="output_price_per_mtok is no longer '0.6'"):
        candidate_accept(candidate_id=update.pk)
    [row] = tool_facts(gpt4o_mini.pk)
    assert row.value == Decimal("0.7")


def test_accept_is_one_transaction(categories, make_source, monkeypatch):
    candidate = new_candidate(make_source)

    def broken(**kwargs):
        raise RuntimeError("the task queue is down")

    monkeypatch.setattr("shipwith.ingest.decisions.panel_run_enqueue", broken)
    with pytest.raises(RuntimeError):
        candidate_accept(candidate_id=candidate.pk)
    assert not Tool.objects.exists()
    assert Candidate.objects.get().status == Status.NEW


def test_a_rejection_keeps_its_reason_and_is_never_proposed_again(categories, make_source):
    candidate = new_candidate(make_source)
    with pytest.raises(IngestError, match="needs a reason"):
        candidate_reject(candidate_id=candidate.pk, reason="  ")
    candidate_reject(candidate_id=candidate.pk, reason="A research checkpoint, not a product")
    candidate.refresh_from_db()
    assert candidate.rejection_reason == "A research checkpoint, not a product"
    new_candidate_again = items_ingest(
        source=make_source("hf-2", "huggingface"),
        items=[
            make_item(
                "OLMo-2-1124-13B-Instruct",
                key="again",
                huggingface="allenai/OLMo-2-1124-13B-Instruct",
            )
        ],
    )
    assert new_candidate_again.created == 0
    assert list(Candidate.objects.values_list("status", flat=True)) == [Status.REJECTED]
    with pytest.raises(IngestError, match="already rejected"):
        candidate_accept(candidate_id=candidate.pk)


def test_a_rejected_price_change_is_not_proposed_again_but_a_new_one_is(gpt4o_mini, make_source):
    source = make_source()
    items_ingest(source=source, items=[priced("0.20")])
    candidate_reject(
        candidate_id=Candidate.objects.get().pk, reason="OpenRouter's price, not OpenAI's"
    )
    items_ingest(source=source, items=[priced("0.20")])
    assert not Candidate.objects.filter(status=Status.UPDATE).exists()
    items_ingest(source=source, items=[priced("0.25")])
    update = Candidate.objects.get(status=Status.UPDATE)
    # The entry price, and OpenRouter's own reading: it said 0.20 before (recorded, whatever
    # the editor decided about the entry price).
    assert update.changes == {
        "price_input_per_mtok": ["0.15", "0.25"],
        "fact:input_price_per_mtok": ["0.2", "0.25"],
    }


def test_a_trusted_source_publishes_on_its_own(
    gpt4o_mini, make_source, django_capture_on_commit_callbacks
):
    trusted = make_source("openrouter", "openrouter", autopublish=True)
    with django_capture_on_commit_callbacks(execute=True):
        report = items_ingest(
            source=trusted,
            items=[
                priced("0.20"),
                make_item(
                    "Qwen: Qwen3 32B",
                    key="qwen/qwen3-32b",
                    openrouter="qwen/qwen3-32b",
                    category_hint="open-weight-models",
                ),
            ],
        )
    assert report.accepted == 2
    assert Tool.objects.get(slug="gpt-4o-mini").price_amount == Decimal("0.20")
    qwen = Tool.objects.get(openrouter_slug="qwen/qwen3-32b")
    assert qwen.category.slug == "open-weight-models" and queued_panels(qwen) == 1
    assert set(Candidate.objects.values_list("status", flat=True)) == {Status.ACCEPTED}


def test_a_licence_change_is_applied_and_queues_a_re_review(
    categories, make_source, django_capture_on_commit_callbacks
):
    tool = Tool.objects.create(
        name="Quill 7B",
        slug="quill-7b",
        category=categories["open-weight-models"],
        licence="Apache-2.0",
        licence_kind="open_weights",
        huggingface_id="acme-labs/quill-7b-instruct",
    )
    relicensed = make_item(
        "Quill-7B-Instruct",
        key="acme-labs/Quill-7B-Instruct",
        huggingface="acme-labs/Quill-7B-Instruct",
        licence="CC-BY-NC-4.0",
        licence_kind="open_weights",
    )
    items_ingest(source=make_source("hf-hub", "huggingface"), items=[relicensed])
    update = Candidate.objects.get(status=Status.UPDATE)
    assert update.changes == {"licence": ["Apache-2.0", "CC-BY-NC-4.0"]}
    with django_capture_on_commit_callbacks(execute=True):
        candidate_accept(candidate_id=update.pk)
    tool.refresh_from_db()
    assert tool.licence == "CC-BY-NC-4.0"
    assert queued_panels(tool) == 1
    assert not PriceChange.objects.exists()
