"""The panel's LLM layer: `model_for(spec)` gives a `Model`; `await model.complete(...)`.

Providers: the embedded model ("local"), any OpenAI-compatible server ("openai:MODEL", with
OPENAI_BASE_URL / OPENAI_API_KEY), Anthropic ("anthropic:MODEL"). Callers never need to know
which one they hold. SHIPWITH_LLM=auto (the default) picks one of them: `discover.py`.
"""

from shipwith.panel.llm.base import (
    Completion,
    InvalidOutput,
    LLMError,
    LLMTimeout,
    LLMUnavailable,
    Model,
)
from shipwith.panel.llm.registry import default_model_spec, model_for, register

LOW_CAPABILITY_NOTE = (
    "Written by the embedded 135M-parameter model, which runs offline but writes text of little "
    "value. Point the panel at a capable model: run Ollama, llama.cpp's server or LM Studio on "
    "this machine (SHIPWITH_LLM=auto, the default, finds it), or set SHIPWITH_LLM=openai:MODEL "
    "with OPENAI_BASE_URL (e.g. vLLM), or anthropic:MODEL."
)

__all__ = [
    "Completion",
    "InvalidOutput",
    "LLMError",
    "LLMTimeout",
    "LLMUnavailable",
    "LOW_CAPABILITY_NOTE",
    "Model",
    "default_model_spec",
    "model_for",
    "register",
]
