"""The matcher: same tool under other names and sources; near misses stay apart."""

import pytest

from shipwith.ingest.dedupe import Entry, Index, slug_variants

CATALOG = [
    Entry(("tool", 1), ["Llama 3.1 8B"], ["Meta"], huggingface="meta-llama/Llama-3.1-8B-Instruct"),
    Entry(("tool", 2), ["Qwen2.5"], ["Alibaba Cloud", "Qwen"]),
    Entry(("tool", 3), ["GPT-4o"], ["OpenAI"], openrouter="openai/gpt-4o"),
    Entry(("tool", 4), ["llama.cpp"], ["ggml"], github="ggml-org/llama.cpp"),
    Entry(("tool", 5), ["Ollama"], ["Ollama"], domain="ollama.com"),
    Entry(("tool", 6), ["Claude 3.5 Sonnet"], ["Anthropic"]),
    Entry(("tool", 7), ["Text Generation Inference", "TGI"], ["Hugging Face"]),
    Entry(("tool", 8), ["Phoenix"], ["Arize AI"]),
]


@pytest.fixture(scope="module")
def index():
    return Index(CATALOG)


@pytest.mark.parametrize(
    ("name", "fields", "ref", "how"),
    [
        ("anything", {"huggingface": "META-LLAMA/llama-3.1-8b-instruct"}, 1, "huggingface id"),
        ("GPT-4o (2024-05-13)", {"openrouter": "openai/gpt-4o-2024-05-13"}, 3, "openrouter slug"),
        ("llama.cpp b4000", {"github": "GGML-org/llama.cpp"}, 4, "github repo"),
        ("Ollama for Windows", {"domain": "ollama.com"}, 5, "homepage"),
        ("Meta: Llama 3.1 8B Instruct", {}, 1, "name"),
        ("meta-llama/Llama-3.1-8B-Instruct", {}, 1, "name"),
        ("Claude Sonnet 3.5", {"vendor": "Anthropic"}, 6, "name"),
        ("Anthropic: Claude 3.5 Sonnet (2024-10-22)", {}, 6, "name"),
        ("text-generation-inference", {}, 7, "name"),
        ("TGI", {}, 7, "name"),
        ("Qwen/Qwen2.5", {}, 2, "name"),
        ("llama-cpp", {}, 4, "name"),
    ],
)
def test_same_tool(index, name, fields, ref, how):
    match = index.match(name=name, **fields)
    assert match is not None, name
    assert (match.ref, match.how) == (("tool", ref), how)


@pytest.mark.parametrize(
    ("name", "vendor"),
    [
        ("Llama 3.1 70B", "Meta"),
        ("Llama 3.2 8B", None),
        ("Qwen2.5-Coder", "Qwen"),
        ("Qwen2.5-VL-7B-Instruct", None),
        ("GPT-4o mini", "OpenAI"),
        ("GPT-4", "OpenAI"),
        ("Claude 3.5 Haiku", "Anthropic"),
        ("Phoenix", "Phoenix Framework"),  # the Elixir web framework, not Arize's tool
        ("Llamafile", None),
    ],
)
def test_near_misses_are_different_tools(index, name, vendor):
    assert index.match(name=name, vendor=vendor) is None


def test_openrouter_snapshot_dates_are_variants():
    assert slug_variants("openai/gpt-4o-2024-05-13") == [
        "openai/gpt-4o-2024-05-13",
        "openai/gpt-4o",
    ]
    assert slug_variants("openai/gpt-4o") == ["openai/gpt-4o"]


def test_candidates_added_during_a_run_are_found():
    index = Index()
    assert index.match(name="Turbopuffer") is None
    index.add(Entry(("candidate", 9), ["turbopuffer"], [], domain="turbopuffer.com"))
    assert index.match(name="TurboPuffer").ref == ("candidate", 9)
    assert index.match(name="x", domain="turbopuffer.com").how == "homepage"
