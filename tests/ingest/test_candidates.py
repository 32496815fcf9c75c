"""From items to candidates: each tool proposed once, known tools matched, changes proposed."""

from decimal import Decimal

import pytest

from shipwith.catalog.models import Category, Fact, Tool
from shipwith.ingest.candidates import candidate_submit
from shipwith.ingest.decisions import candidate_accept
from shipwith.ingest.items import ItemProblem
from shipwith.ingest.models import Candidate, Mention, Status
from shipwith.ingest.run import items_ingest
from tests.ingest.conftest import make_item

pytestmark = pytest.mark.django_db

LLAMA_HF = "meta-llama/Llama-3.3-70B-Instruct"


def openrouter_llama():
    # OpenRouter lists the model with its Hugging Face id (the `hugging_face_id` field).
    return make_item(
        "Meta: Llama 3.3 70B Instruct",
        key="meta-llama/llama-3.3-70b-instruct",
        openrouter="meta-llama/llama-3.3-70b-instruct",
        huggingface=LLAMA_HF,
        input_price_per_mtok=Decimal("0.13"),
        context_window=131072,
        description="The Meta Llama 3.3 multilingual large language model.",
    )


def hub_llama():
    return make_item(
        "Llama-3.3-70B-Instruct",
        key=LLAMA_HF,
        vendor="meta-llama",
        huggingface=LLAMA_HF,
        licence="llama3.3",
        licence_kind="open_weights",
        tags=["text-generation"],
    )


def test_one_model_on_openrouter_and_hugging_face_is_one_candidate(categories, make_source):
    openrouter = make_source("openrouter", "openrouter")
    hub = make_source("hf-hub", "huggingface")
    items_ingest(source=openrouter, items=[openrouter_llama()])
    report = items_ingest(source=hub, items=[hub_llama()])

    assert (report.created, report.updated) == (0, 1)
    [candidate] = Candidate.objects.all()
    assert candidate.status == Status.NEW
    assert sorted(candidate.mentions.values_list("source_name", flat=True)) == [
        "hf-hub",
        "openrouter",
    ]
    # Each fact says where it came from.
    assert candidate.facts["input_price_per_mtok"] == "0.13"
    assert candidate.facts["licence"] == "llama3.3"
    licence_from = Mention.objects.get(pk=candidate.fact_mentions["licence"])
    assert licence_from.source_name == "hf-hub"
    assert Mention.objects.get(pk=candidate.fact_mentions["input_price_per_mtok"]).source_name == (
        "openrouter"
    )
    assert candidate.category.slug == "open-weight-models"


def test_a_known_tool_is_matched_not_proposed(gpt4o_mini, make_source):
    report = items_ingest(
        source=make_source(),
        items=[
            make_item(
                "OpenAI: GPT-4o-mini",
                key="openai/gpt-4o-mini",
                openrouter="openai/gpt-4o-mini-2024-07-18",
                input_price_per_mtok=Decimal("0.15"),
            )
        ],
    )
    [candidate] = Candidate.objects.all()
    assert candidate.status == Status.DUPLICATE
    assert candidate.tool == gpt4o_mini
    assert candidate.changes == {}
    assert report.created == 1 and not Candidate.objects.filter(status=Status.NEW).exists()


def test_a_known_tool_is_matched_by_its_alias(categories, make_source):
    tool = Tool.objects.create(
        name="Text Generation Inference",
        slug="text-generation-inference",
        category=categories["inference-servers"],
        aliases="TGI\nHF TGI",
    )
    items_ingest(source=make_source("hn", "hackernews"), items=[make_item("TGI", key="4242")])
    assert Candidate.objects.get().tool == tool
    assert not Candidate.objects.filter(status=Status.NEW).exists()


def test_a_price_change_is_an_update_with_old_and_new(gpt4o_mini, make_source):
    items_ingest(
        source=make_source(),
        items=[
            make_item(
                "OpenAI: GPT-4o-mini",
                key="openai/gpt-4o-mini",
                openrouter="openai/gpt-4o-mini",
                input_price_per_mtok=Decimal("0.20"),
            )
        ],
    )
    [candidate] = Candidate.objects.all()
    assert candidate.status == Status.UPDATE
    assert candidate.tool == gpt4o_mini
    assert candidate.changes == {"price_input_per_mtok": ["0.15", "0.2"]}


def test_a_release_in_a_feed_is_an_update_note_on_the_known_tool(categories, make_source):
    vllm = Tool.objects.create(
        name="vLLM",
        slug="vllm",
        category=categories["inference-servers"],
        github_repo="vllm-project/vllm",
    )
    feed = make_source("vllm-releases", "feed")
    release = make_item(
        "vLLM",
        key="tag:github.com,2008:Repository/599547518/v0.14.0",
        github="vllm-project/vllm",
        release="v0.14.0",
        url="https://github.com/vllm-project/vllm/releases/tag/v0.14.0",
    )
    items_ingest(source=feed, items=[release])
    [candidate] = Candidate.objects.all()
    assert candidate.tool == vllm
    assert candidate.status == Status.UPDATE
    assert candidate.changes == {"release": [None, "v0.14.0"]}
    assert not Candidate.objects.filter(name__icontains="v0.14").exists()


def test_anyones_post_gives_no_readings_of_a_known_tool_a_listing_does(gpt4o_mini, make_source):
    """Anyone can post to Hacker News: its page's licence is proposed for the tool, never
    recorded as a fact of it; a trusted listing's readings are recorded at once."""
    post = make_item(
        "GPT-4o mini",
        key="4242",
        licence="MIT",
        url="https://news.ycombinator.com/item?id=4242",
        facts_url="https://gpt-4o-mini.example/",
    )
    items_ingest(source=make_source("show-hn", "hackernews"), items=[post])
    assert not Fact.objects.exists()
    assert Candidate.objects.get().changes == {"licence": ["Proprietary", "MIT"]}

    listing = make_item(
        "OpenAI: GPT-4o-mini",
        key="openai/gpt-4o-mini",
        openrouter="openai/gpt-4o-mini",
        input_price_per_mtok=Decimal("0.15"),
        context_window=128000,
        url="https://openrouter.ai/openai/gpt-4o-mini",
    )
    items_ingest(source=make_source(), items=[listing])
    assert dict(Fact.objects.values_list("key", "source_url")) == {
        "input_price_per_mtok": "https://openrouter.ai/openai/gpt-4o-mini",
        "context_window": "https://openrouter.ai/openai/gpt-4o-mini",
    }


def test_a_second_run_over_the_same_items_changes_nothing(categories, gpt4o_mini, make_source):
    source = make_source()
    items = [
        openrouter_llama(),
        make_item("OpenAI: GPT-4o-mini", key="openai/gpt-4o-mini", openrouter="openai/gpt-4o-mini"),
    ]
    items_ingest(source=source, items=items)
    before = list(Candidate.objects.order_by("pk").values())
    mentions = list(Mention.objects.order_by("pk").values())

    report = items_ingest(source=source, items=[openrouter_llama(), *items[1:]])

    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert list(Candidate.objects.order_by("pk").values()) == before
    assert list(Mention.objects.order_by("pk").values()) == mentions


def test_a_bad_item_is_reported_with_source_and_item_and_the_others_are_kept(
    categories, make_source
):
    source = make_source("hf-hub", "huggingface")
    report = items_ingest(
        source=source,
        items=[
            ItemProblem(key="someone/broken", message="'createdAt' is not a date: 'yesterday'"),
            hub_llama(),
        ],
    )
    assert report.problems == [
        "source 'hf-hub', item 'someone/broken': 'createdAt' is not a date: 'yesterday'"
    ]
    assert Candidate.objects.get().name == "Llama-3.3-70B-Instruct"


def test_submitted_tool_is_deduplicated_like_any_item(categories, make_source):
    items_ingest(source=make_source("hf-hub", "huggingface"), items=[hub_llama()])
    candidate = candidate_submit(
        item=make_item("Llama 3.3 70B", key="form", huggingface=LLAMA_HF), submitted_by="api:ed"
    )
    assert Candidate.objects.count() == 1
    assert candidate.mentions.filter(source_name="submitted by api:ed").exists()
    fresh = candidate_submit(item=make_item("Pgai Vectorizer", key="form2"), submitted_by="api:ed")
    assert fresh.status == Status.NEW and fresh.submitted_by == "api:ed"


def test_source_category_hint_is_proposed(categories, make_source):
    source = make_source("vector-feed", "feed", category_hint=categories["vector-databases"])
    items_ingest(source=source, items=[make_item("Turbopuffer", key="tp")])
    assert Candidate.objects.get().category == Category.objects.get(slug="vector-databases")


def test_a_release_feed_proposes_only_releases_newer_than_the_last_accepted(
    categories, make_source
):
    from datetime import UTC, datetime

    Tool.objects.create(
        name="vLLM",
        slug="vllm",
        category=categories["inference-servers"],
        github_repo="vllm-project/vllm",
    )
    feed = make_source("vllm-releases", "feed")

    def release(tag: str, day: int):
        return make_item(
            "vLLM", key=f"release/{tag}", github="vllm-project/vllm", release=tag,
            seen_at=datetime(2026, 11, day, tzinfo=UTC),
        )  # fmt: skip

    items_ingest(source=feed, items=[release("v0.14.0", 20), release("v0.13.0", 10)])
    [update] = Candidate.objects.all()
    assert update.changes == {"release": [None, "v0.14.0"]}
    candidate_accept(candidate_id=update.pk)

    report = items_ingest(
        source=feed, items=[release("v0.15.0", 28), release("v0.14.0", 20), release("v0.13.0", 10)]
    )
    [fresh] = Candidate.objects.filter(status=Status.UPDATE)
    assert fresh.changes == {"release": ["v0.14.0", "v0.15.0"]}
    assert report.created == 1


def admin_save(admin_client, candidate: Candidate, **changes) -> None:
    """Open the candidate's change page in the admin, change `changes`, save."""
    url = f"/admin/ingest/candidate/{candidate.pk}/change/"
    page = admin_client.get(url)
    data = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        data |= {form.add_prefix(name): form[name].value() for name in form.fields}
    data = {name: "" if value is None else value for name, value in data.items()}
    response = admin_client.post(url, data | changes)
    assert response.status_code == 302, response.content.decode()


def test_an_editors_category_is_kept_when_another_source_mentions_the_tool(
    admin_client, categories, make_source
):
    items_ingest(source=make_source("openrouter", "openrouter"), items=[openrouter_llama()])
    candidate = Candidate.objects.get()
    admin_save(admin_client, candidate, category=categories["inference-servers"].pk)

    # The Hub's licence would make it an open-weight model: the editor said otherwise.
    items_ingest(source=make_source("hf-hub", "huggingface"), items=[hub_llama()])
    candidate.refresh_from_db()
    assert candidate.mentions.count() == 2 and candidate.facts["licence"] == "llama3.3"
    assert candidate.category.slug == "inference-servers"


def test_a_category_nobody_chose_is_proposed_afresh_after_an_edit_of_something_else(
    admin_client, categories, make_source
):
    items_ingest(source=make_source("openrouter", "openrouter"), items=[openrouter_llama()])
    candidate = Candidate.objects.get()
    proposed = candidate.category.slug
    admin_save(admin_client, candidate, name="Llama 3.3 70B Instruct")

    items_ingest(source=make_source("hf-hub", "huggingface"), items=[hub_llama()])
    candidate.refresh_from_db()
    assert (proposed, candidate.category.slug) == ("hosted-models", "open-weight-models")
