"""SHIPWITH_LLM=auto reviews with a model server already running on loopback, else the embedded
model, and says which; an explicit SHIPWITH_LLM is never second-guessed.

Real loopback servers in the shape of Ollama's GET /v1/models stand in for the servers people run.
"""

import io
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command

from shipwith.panel.llm import default_model_spec, model_for
from shipwith.panel.llm.discover import (
    AutoChoice,
    model_auto_choose,
    model_auto_export,
    parameter_count,
)
from shipwith.panel.models import Review, RunStatus
from shipwith.panel.runs import panel_run

OLLAMA_MODELS = ["llama3.2:3b", "qwen2.5:14b", "nomic-embed-text:latest", "qwen2.5:7b"]
ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def silent_port():
    """A port that accepts connections (the kernel does) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def models_asked(server) -> set[str]:
    return {seen.body["model"] for seen in server.requests}


@pytest.mark.django_db
def test_auto_reviews_with_the_largest_model_a_loopback_server_lists(
    auto, model_server, personas, make_tool
):
    ollama = model_server(OLLAMA_MODELS)
    auto.SHIPWITH_LLM_AUTO_PORTS = [closed_port(), ollama.port]
    run = panel_run(tool_id=make_tool().pk)
    assert run.status == RunStatus.COMPLETE
    assert models_asked(ollama) == {"qwen2.5:14b"}
    assert {seat.model_spec for seat in run.seats.all()} == {"openai:qwen2.5:14b"}
    assert set(Review.objects.values_list("provider", "model_id")) == {("openai", "qwen2.5:14b")}
    assert len(ollama.listings) == 1  # probed once for the whole panel


@pytest.mark.django_db
def test_an_operators_openai_base_url_still_serves_the_other_openai_specs(
    auto, model_server, monkeypatch, personas, make_tool
):
    ollama = model_server(OLLAMA_MODELS)
    remote = model_server(None)
    monkeypatch.setenv("OPENAI_BASE_URL", remote.base_url)
    auto.SHIPWITH_LLM_AUTO_PORTS = [ollama.port]
    skeptic = personas[1]
    skeptic.model_spec = "openai:gpt-4o-mini"
    skeptic.save()
    panel_run(tool_id=make_tool().pk)
    assert models_asked(remote) == {"gpt-4o-mini"}
    assert {seen.persona for seen in remote.requests} == {skeptic.name}
    assert models_asked(ollama) == {"qwen2.5:14b"} and len(ollama.requests) == 3


def test_with_no_server_answering_the_embedded_model_writes_drafts_and_says_why(auto):
    ports = [closed_port(), closed_port()]
    auto.SHIPWITH_LLM_AUTO_PORTS = ports
    choice = model_auto_choose()
    assert choice.spec == default_model_spec() == "local"
    assert choice.reason == f"no model server answered on 127.0.0.1:{ports[0]}, :{ports[1]}"
    assert "the embedded SmolLM2-135M" in choice.message and "drafts" in choice.message
    assert "SHIPWITH_LLM=openai:MODEL" in choice.message
    model = model_for(default_model_spec())
    assert model.provider == "local" and model.low_capability  # its takes make a draft


def test_html_or_other_json_on_a_port_is_not_a_model_server(auto, model_server):
    web_app = model_server(b"<!doctype html><title>Not a model server</title>")
    health = model_server(json.dumps({"status": "ok"}).encode())
    not_found = model_server(None)  # 404 on /v1/models, like shipwith or any other web app
    auto.SHIPWITH_LLM_AUTO_PORTS = [web_app.port, health.port, not_found.port]
    choice = model_auto_choose()
    assert choice.spec == "local"
    assert "no model server answered on" in choice.reason
    ollama = model_server(OLLAMA_MODELS)
    auto.SHIPWITH_LLM_AUTO_PORTS = [web_app.port, ollama.port]
    assert model_auto_choose().spec == "openai:qwen2.5:14b"


def test_a_server_with_only_embedding_models_is_named_in_the_reason(auto, model_server):
    embedder = model_server(["nomic-embed-text:latest", "all-minilm:l6-v2"])
    auto.SHIPWITH_LLM_AUTO_PORTS = [embedder.port]
    choice = model_auto_choose()
    assert choice.spec == "local"
    assert f"at 127.0.0.1:{embedder.port} lists no chat model" in choice.reason


def test_prefer_picks_the_named_model_by_id_or_part_of_one(auto, model_server):
    ollama = model_server(OLLAMA_MODELS)
    auto.SHIPWITH_LLM_AUTO_PORTS = [ollama.port]
    auto.SHIPWITH_LLM_AUTO_PREFER = "llama"
    assert model_auto_choose().spec == "openai:llama3.2:3b"
    auto.SHIPWITH_LLM_AUTO_PREFER = "qwen2.5:7b"
    choice = model_auto_choose()
    assert choice.spec == "openai:qwen2.5:7b"
    assert "SHIPWITH_LLM_AUTO_PREFER=qwen2.5:7b" in choice.message
    auto.SHIPWITH_LLM_AUTO_PREFER = "mistral"
    choice = model_auto_choose()
    assert choice.spec == "openai:qwen2.5:14b"
    assert "SHIPWITH_LLM_AUTO_PREFER=mistral matches none" in choice.reason


@pytest.mark.django_db
@pytest.mark.parametrize("explicit", ["openai:fake-model", "local"])
def test_an_explicit_setting_never_probes(
    explicit, auto, model_server, monkeypatch, personas, make_tool
):
    ollama = model_server(OLLAMA_MODELS)
    monkeypatch.setenv("OPENAI_BASE_URL", ollama.base_url)
    auto.SHIPWITH_LLM_AUTO_PORTS = [ollama.port]
    auto.SHIPWITH_LLM = explicit
    environ: dict[str, str] = {}
    choice = model_auto_export(environ)
    assert choice.spec == default_model_spec() == explicit and environ == {}
    assert not choice.auto
    if explicit.startswith("openai:"):
        panel_run(tool_id=make_tool().pk)
        assert models_asked(ollama) == {"fake-model"}
    assert ollama.listings == []


def test_the_probe_is_bounded_when_a_port_accepts_but_never_answers(auto, model_server):
    ollama = model_server(OLLAMA_MODELS)
    with silent_port() as silent:
        auto.SHIPWITH_LLM_AUTO_PORTS = [silent, ollama.port, closed_port()]
        started = time.monotonic()
        choice = model_auto_choose()
        elapsed = time.monotonic() - started
    assert choice.spec == "openai:qwen2.5:14b"
    assert elapsed < 1.5, f"probing took {elapsed:.2f}s"


def test_up_hands_its_choice_to_the_processes_it_starts(auto, model_server):
    """The worker and the web server review with the model `up` chose, and never probe again."""
    ollama = model_server(OLLAMA_MODELS)
    auto.SHIPWITH_LLM_AUTO_PORTS = [ollama.port]
    environ = {k: v for k, v in os.environ.items() if k != "SHIPWITH_LLM"}
    choice = model_auto_export(environ)
    assert environ["SHIPWITH_LLM"] == "openai:qwen2.5:14b"
    assert environ["SHIPWITH_LLM_BASE_URL"] == ollama.base_url
    environ |= {
        "SHIPWITH_LLM_AUTO_PORTS": str(ollama.port),
        "PYTHONPATH": str(ROOT),  # this checkout's code, as `up`'s children run the same
        "DJANGO_SETTINGS_MODULE": "shipwith.settings",
    }
    child = (
        "import django, json; django.setup();"
        "from shipwith.panel.llm import default_model_spec, model_for;"
        "model = model_for(default_model_spec());"
        "print(json.dumps([model.spec, model.base_url]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", child], env=environ, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == [choice.spec, ollama.base_url]
    assert len(ollama.listings) == 1  # only `up` asked


def test_the_message_says_which_model_why_and_how_to_choose_another():
    found = AutoChoice(
        spec="openai:qwen2.5:14b",
        reason="found running, the largest of 3 models",
        base_url="http://127.0.0.1:11434/v1",
        server="Ollama",
    )
    assert found.message == (
        "panel model: openai:qwen2.5:14b on Ollama at 127.0.0.1:11434 (found running, the "
        "largest of 3 models; set SHIPWITH_LLM to choose another)"
    )
    none = AutoChoice(spec="local", reason="no model server answered on 127.0.0.1:11434, :8080")
    assert none.message.startswith(
        "panel model: the embedded SmolLM2-135M (no model server answered on 127.0.0.1:11434, "
        ":8080) — its panels are drafts;"
    )


def test_a_llama_cpp_server_is_named_by_what_it_says_it_is(auto, model_server):
    entry = {"id": "Qwen2.5-7B-Instruct-Q4_K_M.gguf", "object": "model", "owned_by": "llamacpp"}
    server = model_server([entry])
    auto.SHIPWITH_LLM_AUTO_PORTS = [server.port]
    choice = model_auto_choose()
    assert choice.spec == "openai:Qwen2.5-7B-Instruct-Q4_K_M.gguf"
    assert f"on llama.cpp's server at 127.0.0.1:{server.port} (found running;" in choice.message


@pytest.mark.parametrize(
    ("model_id", "billions"),
    [
        ("qwen2.5:14b", 14),
        ("llama-3.1-8b-instruct", 8),
        ("Meta-Llama-3.1-70B-Instruct-Q4_K_M.gguf", 70),
        ("mixtral:8x7b", 56),
        ("qwen3:30b-a3b", 30),
        ("deepseek-r1:1.5b", 1.5),
        ("smollm2:135m", 0.135),
        ("openai/gpt-oss-20b", 20),
        ("llama3.1:latest", 0),
        ("qwen2.5", 0),
    ],
)
def test_the_parameter_count_is_read_from_the_name(model_id, billions):
    assert parameter_count(model_id) == pytest.approx(billions)


@pytest.mark.django_db
def test_the_review_command_says_which_model_auto_chose(auto, model_server, personas, make_tool):
    ollama = model_server(OLLAMA_MODELS)
    auto.SHIPWITH_LLM_AUTO_PORTS = [ollama.port]
    make_tool()
    out, err = io.StringIO(), io.StringIO()
    call_command("review", "quillstack", stdout=out, stderr=err)
    assert "panel model: openai:qwen2.5:14b on an OpenAI-compatible server at" in err.getvalue()
    assert "1 of 1 panels complete." in out.getvalue()
