"""A tool's pages can be longer than a small model's context window: the prompt's snapshots are
cut to fit it, fairly between sources, so the embedded model reviews every tool."""

from shipwith.panel import prompts
from shipwith.panel.asking import MAX_TOKENS, review_request
from shipwith.panel.grounding import source_texts_cut
from shipwith.panel.llm.base import BYTES_PER_TOKEN
from shipwith.panel.llm.embedded import EmbeddedModel
from shipwith.panel.llm.mock import MockModel
from shipwith.panel.runs import panel_run

ENTRY = (None, "Name: Quillstack\nVendor: Quillstack Labs\nCategory: Coding")
README = " ".join(
    f"Quillstack indexes repository number {n} and answers with citations." for n in range(400)
)


def test_snapshots_are_cut_to_fair_shares_at_word_ends():
    notes = (2, "Release notes: faster indexing. " * 9)  # 288 characters
    parts = [ENTRY, (1, README), notes, (3, README)]
    cut = dict(source_texts_cut(parts, 4000))
    assert cut[None] == ENTRY[1]  # the catalog entry is never cut
    assert cut[2] == notes[1]  # a short page keeps all of its own...
    for long in (cut[1], cut[3]):  # ...and leaves the rest to the long ones, alike
        assert 1800 <= len(long) <= (4000 - len(notes[1])) // 2
        assert long.endswith(" […]")
        assert README.startswith(long.removesuffix(" […]"))  # cut at a word's end, no word split
        assert long.removesuffix(" […]").split()[-1] in README.split()
    assert sum(len(text) for source, text in cut.items() if source) <= 4000


def test_a_snapshot_whose_share_is_too_small_is_left_out():
    assert source_texts_cut([ENTRY, (1, README), (2, README)], 300) == [ENTRY]
    assert source_texts_cut([ENTRY, (1, "Short page.")], 20) == [ENTRY, (1, "Short page.")]


def test_the_prompt_fits_the_embedded_models_window_with_room_for_the_answer(personas, make_tool):
    tool = make_tool(snapshot=README)  # 27,000 characters: a long README, as a refresh reads it
    model = EmbeddedModel()
    cards = [prompts.persona_card(persona, tool_name=tool.name) for persona in personas]
    # A remote model with no known window beside it: the smallest window decides.
    request = review_request(tool, personas=personas, models=[MockModel(), model])

    [(_, entry), (_, snapshot)] = request.sources
    assert snapshot.endswith(" […]") and README[:2000] in snapshot  # the page's start is kept
    assert "Name: Quillstack" in entry and snapshot in request.prefix
    for card in cards:
        prompt = model.tokens_count(request.system) + model.tokens_count(request.prefix + card)
        # The answer fits after it, and so does a repair quoting a first answer back.
        assert prompt + 2 * MAX_TOKENS <= model.context_tokens
        assert prompt > model.context_tokens // 3  # cut to fit, not to nothing

    # A model with no window to fit gets the page whole.
    assert README in review_request(tool, personas=personas, models=[MockModel()]).prefix


def test_a_server_with_a_small_window_gets_prompts_that_fit_it(
    fault_server, settings, personas, make_tool
):
    settings.SHIPWITH_LLM_CONTEXT = 4096  # e.g. Ollama's num_ctx
    run = panel_run(tool_id=make_tool(snapshot=README).pk)
    assert run.status == "complete"
    for persona in personas:
        [ask] = fault_server.seen(persona.name)
        prompt = "".join(message["content"] for message in ask.body["messages"])
        # Counted as the layer counts a server's tokens (cautiously, by bytes): it fits.
        assert len(prompt.encode()) / BYTES_PER_TOKEN + 2 * MAX_TOKENS <= 4096
        assert "Quillstack indexes repository number 0 " in prompt and "[…]" in prompt
