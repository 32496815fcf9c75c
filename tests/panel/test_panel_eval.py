"""`shipwith panel eval` on a fake model whose answers are known, so the figures are too."""

import json
import re

import pytest
from django.core.management import CommandError

from shipwith.panel.models import PanelEval, Review
from tests.panel.conftest import facts_record_for, good_review
from tests.panel.fault_server import Reply

pytestmark = pytest.mark.django_db

PERSONA = re.compile(r"You are the (\w+)\.")
WORDS = {
    "Builder": "primitive first hour developer experience",
    "Skeptic": "competitors benchmark breaks twelve months",
    "Futurist": "thesis date dependency second order",
    "Operator": "buyer moat business pays margins",
}


def persona_of(request) -> str:
    return PERSONA.search(request.prompt).group(1)


def answers(*, distinct: bool = False, flip: set[str] = frozenset()):
    """A model that answers every request; `flip` personas say skip the second time round."""
    seen: dict[tuple[str, str], int] = {}

    def answer(request):
        persona = persona_of(request)
        tool = re.search(r"Name: (\w+)", request.prompt).group(1)
        times = seen[(tool, persona)] = seen.get((tool, persona), 0) + 1
        verdict = "skip" if persona in flip and times == 2 else "ship"
        if not distinct:
            return good_review(verdict)
        take = " ".join([WORDS[persona]] * 20)
        return good_review(verdict, take=take)

    return answer


@pytest.fixture
def two_tools(make_tool):
    return [make_tool("quillstack"), make_tool("rivalbase")]


def run_eval(run_command, mock_model, answer, *extra: str) -> dict:
    mock_model.enqueue(*[answer] * 16)
    out = run_command("panel", "eval", "--model", "mock:m", "--tools", "2", "--json", *extra)
    return json.loads(out)


def test_identical_takes_give_similarity_one_and_stable_verdicts(
    run_command, mock_model, personas, two_tools
):
    report = run_eval(run_command, mock_model, answers())
    assert report["persona_similarity"] == 1.0 and report["rerun_similarity"] == 1.0
    assert report["verdict_stability"] == 1.0
    assert report["valid_first_try"] == 1.0 and report["repairs"] == 0
    assert report["quotes_verified"] == 16 and report["quotes_dropped"] == 0
    assert report["reviews"] == 16 and report["failed"] == 0
    assert report["seconds_per_review"] >= 0
    assert len(mock_model.history) == 16  # two tools, four personas, twice
    assert not Review.objects.exists()  # an eval stores figures, never reviews


def test_verdicts_that_flip_lower_the_stability(run_command, mock_model, personas, two_tools):
    report = run_eval(run_command, mock_model, answers(flip={"Builder"}))
    assert report["verdict_stability"] == 0.75  # one persona of four flips on both tools


def test_distinct_lenses_show_below_the_rerun_similarity(
    run_command, mock_model, personas, two_tools
):
    report = run_eval(run_command, mock_model, answers(distinct=True))
    assert report["rerun_similarity"] == 1.0
    assert report["persona_similarity"] < 0.2


def test_repairs_and_dropped_quotes_are_counted(run_command, mock_model, personas, two_tools):
    def answer(request):
        return good_review(evidence_quotes=["a sentence nobody ever wrote here"])

    first = {"verdict": "ship"}  # fails the schema: one repair, then a good answer
    mock_model.enqueue(first, *[answer] * 16)
    out = run_command("panel", "eval", "--model", "mock:m", "--tools", "2", "--json")
    report = json.loads(out)
    assert report["repairs"] == 1 and report["valid_first_try"] == 15 / 16
    assert report["quotes_verified"] == 0 and report["quotes_dropped"] == 16


def test_the_methodology_page_shows_the_latest_eval_of_the_model_in_use(
    run_command, mock_model, personas, two_tools, client, settings
):
    settings.SHIPWITH_LLM = "mock:m"
    run_eval(run_command, mock_model, answers(flip={"Builder"}))
    assert PanelEval.objects.get().tools == 2
    html = client.get("/methodology/").content.decode()
    assert "Measured by <code>shipwith panel eval</code> on 2 tools" in html
    assert "75%" in html  # verdict stability


def test_the_text_report_names_each_figure(run_command, mock_model, personas, two_tools):
    mock_model.enqueue(*[answers()] * 16)
    out = run_command("panel", "eval", "--model", "mock:m", "--tools", "2")
    assert "mock:m (m) on 2 tools, each twice" in out
    assert "Verdicts unchanged on re-run" in out and "100%" in out
    assert "The personas write alike" in out  # identical takes: the lenses do not show


def test_eval_with_nothing_to_review_says_so(run_command, mock_model, personas):
    with pytest.raises(CommandError, match="nothing to evaluate"):
        run_command("panel", "eval", "--model", "mock:m")


@pytest.fixture
def priced_tools(make_tool):
    """Two hosted models: input $0.15 per 1M tokens, and a 128,000 or an 8,192-token window."""
    tools = []
    for slug, window in [("quillstack", 128000), ("rivalbase", 8192)]:
        tool = make_tool(slug, category="hosted-models")
        facts_record_for(tool, input_price_per_mtok="0.15", context_window=window)
        tools.append(tool)
    return tools


def stating(sentence: str, *, only: str = ""):
    """A model whose takes end with `sentence` (on tool `only`, when given)."""
    base = good_review()["take"]

    def answer(request):
        tool = re.search(r"Name: (\w+)", request.prompt).group(1)
        return good_review(take=f"{base} {sentence}" if only in ("", tool) else base)

    return answer


@pytest.mark.parametrize(
    ("sentence", "only", "contradicted", "supported"),
    [
        ("It costs $9 per 1M input tokens.", "", 16, 0),
        ("It costs $0.15 per million input tokens.", "", 0, 16),
        ("It has a 128k context window.", "Quillstack", 0, 8),  # the fact is 128,000
        ("It has a 128k context window.", "Rivalbase", 8, 0),  # the fact is 8,192
    ],
)
def test_takes_the_facts_contradict_are_counted(
    run_command, mock_model, personas, priced_tools, sentence, only, contradicted, supported
):
    report = run_eval(run_command, mock_model, stating(sentence, only=only))
    assert report["facts_contradicted"] == contradicted
    assert report["facts_contradicted_share"] == contradicted / 16
    assert report["facts_supported"] == supported
    assert PanelEval.objects.get().figures["facts_contradicted"] == contradicted


def test_the_text_report_shows_the_takes_the_facts_contradict(
    run_command, mock_model, personas, priced_tools
):
    mock_model.enqueue(*[stating("It costs $9 per 1M input tokens.", only="Rivalbase")] * 16)
    out = run_command("panel", "eval", "--model", "mock:m", "--tools", "2")
    assert re.search(r"Takes the facts contradict\s+8\n", out)
    assert re.search(r"Takes the facts contradict \(share\)\s+50%\n", out)


def test_an_eval_over_http_flags_the_price_the_facts_contradict(
    run_command, fault_server, personas, priced_tools
):
    take = f"{good_review()['take']} It costs $9 per 1M input tokens."
    fault_server.default = Reply(good_review(take=take))
    out = run_command("panel", "eval", "--model", "openai:fake-model", "--tools", "2", "--json")
    report = json.loads(out)
    assert report["reviews"] == 16 and report["failed"] == 0
    assert report["facts_contradicted"] == 16 and report["facts_contradicted_share"] == 1.0
    prompt = fault_server.requests[0].body["messages"][1]["content"]
    assert "Input price: $0.15 per 1M tokens | source: OpenRouter models" in prompt
