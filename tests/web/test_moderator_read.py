"""The moderator's read: written in the background from the eight takes, rewritten on change."""

import pytest

from shipwith.core.freshness import tools_touch
from shipwith.panel.llm import Model, register
from shipwith.panel.llm.base import Generation
from shipwith.panel.llm.registry import unregister
from shipwith.web.models import Comparison
from shipwith.web.services import comparisons_publish, moderator_read_write
from tests.web.factories import make_panel, make_personas, make_review, make_tool

pytestmark = pytest.mark.django_db


class FakeModel(Model):
    """Answers with a fixed read and keeps the prompts it was sent."""

    provider = "fake"
    answer = "Both panels ship on the primitive; they split on the business."
    prompts: list[str] = []

    async def _generate(self, *, system, messages, schema, max_tokens) -> Generation:
        FakeModel.prompts.append(messages[0]["content"])
        return Generation(text=FakeModel.answer, tokens_in=10, tokens_out=10)


@pytest.fixture(autouse=True)
def fake_model(settings):
    register("fake", FakeModel)
    settings.SHIPWITH_LLM = "fake:moderator-1"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    FakeModel.prompts = []
    FakeModel.answer = "Both panels ship on the primitive; they split on the business."
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
    assert FakeModel.prompts[0].count("Alpha take.") == 4
    assert FakeModel.prompts[0].count("Beta take.") == 4


def test_read_is_not_rewritten_until_a_panel_changes(comparison):
    moderator_read_write(comparison_id=comparison.pk)
    moderator_read_write(comparison_id=comparison.pk)
    assert len(FakeModel.prompts) == 1
    make_review(comparison.tool_a, make_personas()[3], "ship", take="Operator changed.")
    FakeModel.answer = "Now all four ship Alpha."
    written = moderator_read_write(comparison_id=comparison.pk)
    assert len(FakeModel.prompts) == 2 and written.moderator_read == "Now all four ship Alpha."


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
        report = comparisons_publish()
    assert report.reads_queued == 1 and len(callbacks) == 1
    assert Comparison.objects.get().moderator_read == FakeModel.answer


def test_viewing_after_a_panel_change_queues_a_rewrite(
    comparison, client, django_capture_on_commit_callbacks
):
    moderator_read_write(comparison_id=comparison.pk)
    make_review(comparison.tool_b, make_personas()[0], "skip", take="Builder changed.")
    tools_touch(comparison.tool_b_id)
    FakeModel.answer = "Rewritten after the Builder changed."
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.get("/compare/alpha-vs-beta/")
    assert len(callbacks) == 1
    html = client.get("/compare/alpha-vs-beta/").content.decode()  # the write touched both tools
    assert "Rewritten after the Builder changed." in html and "fake:moderator-1" in html


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
