"""The panel on real models: llama.cpp's own OpenAI-compatible server, and the embedded model."""

import socket
import subprocess
import sys
import time

import httpx
import pytest

from shipwith.panel.llm.embedded import gguf_path
from shipwith.panel.models import Review, RunStatus, SeatStatus
from shipwith.panel.schema import ReviewOutput

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server():
    """`python -m llama_cpp.server` with the embedded GGUF, on loopback."""
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path()),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "1",
        "--model_alias", "smollm2",
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"{base_url}/models", timeout=2).raise_for_status()
            break
        except httpx.HTTPError:
            assert server.poll() is None, "llama_cpp.server exited"
            assert time.monotonic() < deadline, "llama_cpp.server did not start"
            time.sleep(0.5)
    yield base_url
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture
def on_llama_server(llama_server, settings, monkeypatch):
    from shipwith.panel.llm import openai_compat

    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    monkeypatch.setattr(openai_compat, "_learned_modes", {})
    settings.SHIPWITH_LLM = "openai:smollm2"
    settings.SHIPWITH_LLM_TIMEOUT = 600
    return llama_server


@pytest.mark.django_db
def test_a_real_server_ends_every_seat_in_a_recorded_state(on_llama_server, personas, make_tool):
    from shipwith.panel.llm import openai_compat
    from shipwith.panel.runs import panel_run

    tool = make_tool()
    run = panel_run(tool_id=tool.pk)
    seats = list(run.seats.all())
    assert {seat.status for seat in seats} <= {SeatStatus.DONE, SeatStatus.FAILED}
    assert all(seat.error for seat in seats if seat.status == SeatStatus.FAILED)
    assert run.status in (RunStatus.COMPLETE, RunStatus.INCOMPLETE, RunStatus.FAILED)
    if run.status != RunStatus.COMPLETE:
        assert run.reason
    # llama.cpp's server refuses the json_schema envelope (HTTP 500); the layer stepped down.
    assert openai_compat._learned_modes[(on_llama_server, "smollm2")] >= 1
    for review in Review.objects.filter(tool=tool):
        ReviewOutput.model_validate(
            {field: getattr(review, field) for field in ReviewOutput.model_fields}
            | {"evidence_quotes": review.evidence_quotes + review.dropped_quotes}
        )
        assert (review.provider, review.model_id) == ("openai", "smollm2")
        assert review.tokens_in > 0 and review.tokens_out > 0


def test_a_real_server_answers_in_the_schema_we_ask_for(on_llama_server):
    from asgiref.sync import async_to_sync

    from shipwith.panel.llm import model_for

    schema = {
        "type": "object",
        "properties": {
            "verdict": {"type": "string", "enum": ["ship", "skip"]},
            "reason": {"type": "string", "maxLength": 200},
        },
        "required": ["verdict", "reason"],
        "additionalProperties": False,
    }
    model = model_for("openai:smollm2")
    completion = async_to_sync(model.complete)(
        system="You review developer tools.",
        prompt="Should a team ship with a local model runner? Answer in JSON.",
        schema=schema,
        max_tokens=200,
    )
    assert completion.data["verdict"] in ("ship", "skip")
    assert isinstance(completion.data["reason"], str)
    assert (completion.provider, completion.model_id) == ("openai", "smollm2")
    assert completion.tokens_in > 0 and completion.latency_ms > 0


@pytest.mark.django_db
def test_the_embedded_model_reviews_a_tool_end_to_end(settings, run_command, personas, make_tool):
    settings.SHIPWITH_LLM = "local"
    # A page as long as the READMEs a refresh reads (20,000 characters): more than the model's
    # 4,096 tokens, so the prompt carries the start of it.
    sentence = "Quillstack indexes a repository in under a minute and answers questions about it. "
    tool = make_tool(snapshot=sentence * 245)
    out = run_command("review", tool.slug)
    # A 135M model now and then writes a take out of bounds even after its one repair (each
    # run's prompt differs: a fresh source fence). As `up` does, the failed seats are asked
    # again; the seats that answered are not (every review stays version 1, checked below).
    for _ in range(2):
        if not tool.panel_runs.get().seats.exclude(status="done").exists():
            break
        out += run_command("review", "--incomplete")
    run = tool.panel_runs.get()
    failed = [(s.persona.name, s.error) for s in run.seats.exclude(status="done")]
    assert failed == [], out
    reviews = list(Review.objects.filter(tool=tool).order_by("persona__position"))
    assert [review.persona.key for review in reviews] == [
        "builder", "skeptic", "futurist", "operator"
    ]  # fmt: skip
    for review in reviews:
        assert (review.version, review.is_current, review.provider) == (1, True, "local")
        assert review.model_id == "SmolLM2-135M-Instruct.Q4_1.gguf"  # the file actually loaded
        assert review.is_low_capability
        assert 80 <= len(review.take.split()) <= 170
        assert review.verdict in ("ship", "skip") and 1 <= review.confidence <= 5
        assert review.latency_ms > 0 and review.tokens_out > 0
    assert "Quillstack: complete" in out
