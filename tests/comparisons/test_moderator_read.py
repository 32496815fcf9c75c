"""The moderator's read: written in the background from the eight takes, rewritten on change."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shipwith.catalog.models import Vendor
from shipwith.comparisons.models import Comparison
from shipwith.comparisons.selectors import moderator_reads_due
from shipwith.comparisons.services import comparisons_publish, moderator_read_write
from shipwith.comparisons.tasks import comparisons_publish_and_queue_reads
from shipwith.core.freshness import tools_touch
from shipwith.panel.llm import Model, register
from shipwith.panel.llm.base import Generation
from shipwith.panel.llm.registry import unregister
from shipwith.panel.models import PanelRun
from shipwith.panel.selectors import panel_summaries
from shipwith.panel.tasks import panel_run_task
from tests.factories import make_panel, make_personas, make_review, make_tool

pytestmark = pytest.mark.django_db


class FakeModel(Model):
    """Answers with a fixed read and pick, and keeps the prompts it was sent.

    `pick` is a tool name, or "first" to always pick the tool shown first (position bias).
    """

    provider = "fake"
    answer = "Both panels ship on the primitive; they split on the business."
    pick = "Alpha"
    prompts: list[str] = []
    during_call = None  # run (in the caller's thread) while the model "thinks"

    async def _generate(self, *, system, messages, schema, max_tokens) -> Generation:
        FakeModel.prompts.append(messages[0]["content"])
        if FakeModel.during_call:
            await sync_to_async(FakeModel.during_call)()
        shown = schema["properties"]["pick"]["enum"]
        pick = shown[0] if FakeModel.pick == "first" else FakeModel.pick
        text = json.dumps({"pick": pick, "read": FakeModel.answer})
        return Generation(text=text, tokens_in=10, tokens_out=10)


@pytest.fixture(autouse=True)
def fake_model(settings):
    register("fake", FakeModel)
    settings.SHIPWITH_LLM = "fake:moderator-1"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    FakeModel.prompts = []
    FakeModel.answer = "Both panels ship on the primitive; they split on the business."
    FakeModel.pick = "Alpha"
    FakeModel.during_call = None
    settings.SHIPWITH_LLM_ALTERNATE = ""
    yield
    unregister("fake")


@pytest.fixture
def comparison():
    a, b = make_tool("alpha", tagline="Serving"), make_tool("beta", tagline="Serving too")
    make_panel(a, "sssk", take="Alpha take.")
    make_panel(b, "skkk", take="Beta take.")
    comparisons_publish()
    return Comparison.objects.get(tool_a=a, tool_b=b)


def test_read_is_written_from_the_eight_takes(comparison):
    written = moderator_read_write(comparison_id=comparison.pk)
    assert written.moderator_read == FakeModel.answer
    assert written.moderator_model == "fake:moderator-1"
    assert written.moderator_call == "a"
    assert FakeModel.prompts[0].count("Alpha take.") == 4
    assert FakeModel.prompts[0].count("Beta take.") == 4


def test_the_moderator_is_asked_with_the_tools_in_both_orders(comparison):
    moderator_read_write(comparison_id=comparison.pk)
    first, second = FakeModel.prompts
    assert first.index("Alpha take.") < first.index("Beta take.")
    assert second.index("Beta take.") < second.index("Alpha take.")


@pytest.mark.parametrize("concurrent", [True, False])
def test_a_model_that_takes_one_call_at_once_is_asked_one_order_then_the_other(
    comparison, concurrent, monkeypatch
):
    # The embedded model (concurrent = False) crashed llama.cpp when asked both orders at once.
    monkeypatch.setattr(FakeModel, "concurrent", concurrent)
    in_flight, most = [0], [0]

    async def counting(self, **kwargs):
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        await asyncio.sleep(0.05)
        try:
            return await generate(self, **kwargs)
        finally:
            in_flight[0] -= 1

    generate = FakeModel._generate
    monkeypatch.setattr(FakeModel, "_generate", counting)
    moderator_read_write(comparison_id=comparison.pk)
    assert len(FakeModel.prompts) == 2 and most[0] == (2 if concurrent else 1)


def test_a_pick_that_follows_the_order_is_too_close_to_call(comparison, client):
    FakeModel.pick = "first"  # position bias: whichever tool comes first wins
    written = moderator_read_write(comparison_id=comparison.pk)
    assert written.moderator_call == "close"
    assert written.moderator_read.startswith("Too close to call")
    html = client.get("/compare/alpha-vs-beta/").content.decode()
    assert "Too close to call." in html and "would ship with" not in html


def test_a_pick_that_holds_in_both_orders_is_shown(comparison, client):
    FakeModel.pick = "Beta"
    assert moderator_read_write(comparison_id=comparison.pk).moderator_call == "b"
    html = client.get("/compare/alpha-vs-beta/").content.decode()
    assert "The moderator would ship with <strong>Beta</strong>" in html


def test_a_late_read_never_overwrites_a_newer_one(comparison):
    def newer_read_lands_meanwhile():
        FakeModel.during_call = None
        Comparison.objects.filter(pk=comparison.pk).update(
            moderator_read="A newer read.",
            moderator_source="newer",
            moderator_written_at=timezone.now(),
        )

    FakeModel.during_call = newer_read_lands_meanwhile
    written = moderator_read_write(comparison_id=comparison.pk)
    assert written.moderator_read == "A newer read." and written.moderator_source == "newer"


def test_the_moderator_obeys_recusal(comparison, settings, client):
    openai = Vendor.objects.create(name="OpenAI", slug="openai")
    comparison.tool_b.vendor = openai
    comparison.tool_b.save()
    settings.SHIPWITH_LLM = "fake:gpt-4o"
    assert moderator_read_write(comparison_id=comparison.pk).moderator_read == ""
    assert FakeModel.prompts == []
    tools_touch(comparison.tool_a_id)
    html = client.get("/compare/alpha-vs-beta/").content.decode()
    assert "No moderator's read: fake:gpt-4o is made by OpenAI" in html
    settings.SHIPWITH_LLM_ALTERNATE = "fake:claude-moderator"
    written = moderator_read_write(comparison_id=comparison.pk)
    assert written.moderator_model == "fake:claude-moderator"


def test_read_is_not_rewritten_until_a_panel_changes(comparison):
    moderator_read_write(comparison_id=comparison.pk)
    moderator_read_write(comparison_id=comparison.pk)
    assert len(FakeModel.prompts) == 2  # one read: both orders
    make_review(comparison.tool_a, make_personas()[3], "ship", take="Operator changed.")
    FakeModel.answer = "Now all four ship Alpha."
    written = moderator_read_write(comparison_id=comparison.pk)
    assert len(FakeModel.prompts) == 4 and written.moderator_read == "Now all four ship Alpha."


def test_incomplete_panels_get_no_read(comparison):
    make_tool("gamma")
    other = Comparison.objects.create(
        tool_a=comparison.tool_a, tool_b=make_tool("zeta"), published_at=comparison.published_at
    )
    assert moderator_read_write(comparison_id=other.pk).moderator_read == ""
    assert FakeModel.prompts == []


def test_publishing_queues_the_read_on_commit(django_capture_on_commit_callbacks):
    a, b = make_tool("alpha"), make_tool("beta")
    make_panel(a, "ssss")
    make_panel(b, "kkkk")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = comparisons_publish_and_queue_reads()
    assert report.reads_queued == 1 and len(callbacks) == 1
    assert Comparison.objects.get().moderator_read == FakeModel.answer


def test_a_panel_task_that_ends_queues_the_rewrite(
    comparison, client, django_capture_on_commit_callbacks
):
    moderator_read_write(comparison_id=comparison.pk)
    make_review(comparison.tool_b, make_personas()[0], "skip", take="Builder changed.")
    FakeModel.answer = "Rewritten after the Builder changed."
    html = client.get("/compare/alpha-vs-beta/").content.decode()
    assert "Rewritten" not in html  # reading the page queues nothing
    run = PanelRun.objects.create(tool=comparison.tool_b, model_spec="fake:panel")
    with django_capture_on_commit_callbacks(execute=True):
        panel_run_task.enqueue(run.pk)  # no seats left to fill: it ends at once
    html = client.get("/compare/alpha-vs-beta/").content.decode()  # the write touched both tools
    assert "Rewritten after the Builder changed." in html and "fake:moderator-1" in html


def test_a_page_read_never_queues_work(
    comparison, client, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    make_review(comparison.tool_b, make_personas()[0], "skip", take="Builder changed.")
    tools_touch(comparison.tool_b_id)  # a read is due: no read was written from these takes
    before = DBTaskResult.objects.count()
    pages = ["/compare/alpha-vs-beta/", "/compare/beta-vs-alpha/", "/", "/tools/alpha/"]
    with django_capture_on_commit_callbacks(execute=True):
        for url in [*pages, "/feeds/comparisons.atom", "/api/v1/comparisons/alpha-vs-beta"]:
            client.get(url)
    assert DBTaskResult.objects.count() == before
    assert moderator_reads_due() == [comparison.pk]  # due, and left to the writers' paths


def test_read_is_stored_and_shown_as_plain_text(comparison, client):
    FakeModel.answer = (
        "Alpha <script>alert(1)</script>wins<img src=x onerror=alert(2)> on "
        "&amp;lt;b&amp;gt;cost&amp;lt;/b&amp;gt; & 3 < 4."
    )
    written = moderator_read_write(comparison_id=comparison.pk)
    assert written.moderator_read == "Alpha wins on cost & 3 < 4."
    html = client.get("/compare/alpha-vs-beta/").content.decode()
    assert "Alpha wins on cost &amp; 3 &lt; 4." in html
    assert "onerror" not in html and "alert(" not in html


def test_read_from_the_embedded_model_carries_the_note(comparison, client):
    Comparison.objects.filter(pk=comparison.pk).update(
        moderator_read="A read.", moderator_model="local:SmolLM2-135M"
    )
    tools_touch(comparison.tool_a_id)
    html = client.get("/compare/alpha-vs-beta/").content.decode()
    assert "135M" in html and "OPENAI_BASE_URL" in html


def test_a_moderator_model_that_cannot_be_built_leaves_the_page_up(comparison, settings, client):
    settings.SHIPWITH_LLM = "nonsense:model"
    response = client.get("/compare/alpha-vs-beta/")
    assert response.status_code == 200
    assert "Not written yet" in response.content.decode()


EMBEDDED = {"provider": "local", "model_id": "SmolLM2-135M-Instruct.Q4_1.gguf"}


def test_a_draft_panel_gets_no_read(django_capture_on_commit_callbacks, client):
    a, b = make_tool("alpha"), make_tool("beta")
    make_panel(a, "ssss")
    make_panel(b, "kkss", **EMBEDDED)  # a complete panel, but a draft
    with django_capture_on_commit_callbacks(execute=True):
        report = comparisons_publish_and_queue_reads()
    comparison = Comparison.objects.get()
    assert report.reads_queued == 0 and comparison.moderator_read == ""
    assert moderator_read_write(comparison_id=comparison.pk).moderator_read == ""
    assert FakeModel.prompts == []
    html = client.get("/compare/alpha-vs-beta/").content.decode()
    assert "the moderator reads verdicts only, never a draft panel" in html
    assert "is queued" not in html


def test_a_read_is_not_shown_once_a_panel_becomes_a_draft(comparison, client):
    moderator_read_write(comparison_id=comparison.pk)
    assert FakeModel.answer in client.get("/compare/alpha-vs-beta/").content.decode()
    make_review(comparison.tool_a, make_personas()[1], "ship", **EMBEDDED)
    tools_touch(comparison.tool_a_id)
    html = client.get("/compare/alpha-vs-beta/").content.decode()
    assert FakeModel.answer not in html and "never a draft panel" in html
    api = client.get("/api/v1/comparisons/alpha-vs-beta").json()
    assert api["moderator_read"] is None and api["moderator_model"] is None
    assert moderator_reads_due() == []  # nor is a new read queued for the draft


def test_a_read_stored_before_the_prompts_became_files_is_not_written_again(comparison):
    # Reads stored by the earlier code name their source "v2|<A's review versions>|<B's>".
    panels = panel_summaries([comparison.tool_a_id, comparison.tool_b_id])
    versions = [
        ",".join(f"{r.pk}.{r.version}" for r in sorted(panels[tool_id].reviews, key=lambda r: r.pk))
        for tool_id in (comparison.tool_a_id, comparison.tool_b_id)
    ]
    Comparison.objects.filter(pk=comparison.pk).update(
        moderator_read="An earlier read.", moderator_source="v2|" + "|".join(versions)
    )
    assert moderator_reads_due() == []
    assert moderator_read_write(comparison_id=comparison.pk).moderator_read == "An earlier read."
    assert FakeModel.prompts == []
