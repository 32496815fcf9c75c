"""`SHIPWITH_LLM=auto`: review with a model server already running here, else the embedded model.

Each port of SHIPWITH_LLM_AUTO_PORTS on 127.0.0.1 (Ollama's 11434, llama.cpp's server's 8080, LM
Studio's 1234) is asked for its models, all at once with a short timeout: `GET /v1/models` in
OpenAI's list format, which all three serve. Only that JSON counts (8080 may be any web app);
embedding models are left out. SHIPWITH_LLM_AUTO_PREFER names the model to use (an exact id, else
part of one); without it, the largest by the parameter count in its name ("qwen2.5:14b").

The choice is made once per process. `up` settles it before starting the worker and the web
server and hands it to them as an explicit SHIPWITH_LLM (`model_auto_export`), so every process
reviews with the same model and none probes again. An explicit SHIPWITH_LLM is never second-guessed:
nothing is probed then.
"""

import json
import os
import re
import threading
import time
from collections.abc import MutableMapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import httpx
from django.conf import settings

from shipwith.panel.llm.embedded import DEFAULT_NAME as EMBEDDED_NAME

AUTO = "auto"
EMBEDDED = "local"
HOST = "127.0.0.1"
# Seconds to connect and for each read; all ports are asked at once, so start-up pays it once.
PROBE_TIMEOUT = 0.5
PROBE_MAX_BYTES = 1_000_000
_BY_PORT = {11434: "Ollama", 1234: "LM Studio"}
# Ids of models that embed, rerank or transcribe rather than chat.
_NOT_CHAT = re.compile(r"embed|rerank|minilm|\bbge\b|\be5\b|\bgte\b|whisper|\btts\b")
# A size in the name: "14b", "1.5B", "135m", "8x7b" (experts × size). A letter before the number
# is not a size of the whole model ("30b-a3b": 3B active; "e4b": effective).
_SIZE = re.compile(r"(?<![a-z0-9.])(?:(\d+)x)?(\d+(?:\.\d+)?)([bm])(?![a-z0-9])")


@dataclass(frozen=True)
class Found:
    """A chat model a server on loopback lists."""

    model_id: str
    port: int
    server: str
    order: int  # the port's place in SHIPWITH_LLM_AUTO_PORTS: ties go to the earlier one


@dataclass(frozen=True)
class AutoChoice:
    """The panel's default model, where it is served, and why it was chosen."""

    spec: str
    reason: str
    base_url: str = ""  # "" for the embedded model (or a spec SHIPWITH_LLM names)
    server: str = ""
    auto: bool = True  # False: SHIPWITH_LLM named the model, nothing was probed

    @property
    def embedded(self) -> bool:
        return self.spec == EMBEDDED

    @property
    def message(self) -> str:
        """One line for `up` and the CLI: which model, why, and how to choose another."""
        if self.embedded:
            return (
                f"panel model: the embedded {EMBEDDED_NAME} ({self.reason}) — its panels are "
                "drafts; run Ollama (or llama.cpp's server, LM Studio) with a model, or set "
                "SHIPWITH_LLM=openai:MODEL"
            )
        if not self.auto:
            return f"panel model: {self.spec} ({self.reason})"
        where = self.base_url.removeprefix("http://").removesuffix("/v1")
        return (
            f"panel model: {self.spec} on {self.server} at {where} ({self.reason}; "
            "set SHIPWITH_LLM to choose another)"
        )


def model_setting() -> str:
    """What SHIPWITH_LLM says: "auto" (also when unset), "local" or a provider's spec."""
    spec = (settings.SHIPWITH_LLM or AUTO).strip()
    return AUTO if spec.lower() == AUTO else spec


_lock = threading.Lock()
_chosen: dict[tuple, AutoChoice] = {}


def model_auto_choose() -> AutoChoice:
    """The model `auto` stands for in this process: probed on first use, then kept."""
    ports = [int(port) for port in settings.SHIPWITH_LLM_AUTO_PORTS]
    prefer = settings.SHIPWITH_LLM_AUTO_PREFER.strip()
    key = (tuple(ports), prefer)
    with _lock:  # callers at once wait for one probe rather than each making their own
        if key not in _chosen:
            _chosen[key] = _choose(ports, prefer)
        return _chosen[key]


def model_auto_export(environ: MutableMapping[str, str] | None = None) -> AutoChoice:
    """Settle the panel's default model for `up` and the processes it starts after this call.

    With SHIPWITH_LLM=auto the choice goes into `environ` (os.environ by default) as an explicit
    SHIPWITH_LLM, with SHIPWITH_LLM_BASE_URL for a model server, so children inherit it and
    never probe. Return the choice; its `message` is the line to print.
    """
    configured = model_setting()
    if configured != AUTO:
        reason = "SHIPWITH_LLM=local" if configured == EMBEDDED else "set by SHIPWITH_LLM"
        return AutoChoice(spec=configured, reason=reason, auto=False)
    choice = model_auto_choose()
    environ = os.environ if environ is None else environ
    environ["SHIPWITH_LLM"] = choice.spec
    if choice.base_url:
        environ["SHIPWITH_LLM_BASE_URL"] = choice.base_url
    else:
        environ.pop("SHIPWITH_LLM_BASE_URL", None)
    return choice


def parameter_count(model_id: str) -> float:
    """Billions of parameters the id names ("qwen2.5:14b" → 14), 0 when it names none."""
    sizes = [
        int(experts or 1) * float(size) / (1000 if unit == "m" else 1)
        for experts, size, unit in _SIZE.findall(model_id.lower())
    ]
    return max(sizes, default=0.0)


def model_auto_pick(found: list[Found], prefer: str = "") -> tuple[Found, str]:
    """The model to use of those found (not empty), and why."""
    ranked = sorted(found, key=lambda f: (-parameter_count(f.model_id), f.order, f.model_id))
    note = ""
    if prefer:
        wanted = prefer.lower()
        matches = [f for f in ranked if f.model_id.lower() == wanted] or [
            f for f in ranked if wanted in f.model_id.lower()
        ]
        if matches:
            return matches[0], f"found running, SHIPWITH_LLM_AUTO_PREFER={prefer}"
        note = f"; SHIPWITH_LLM_AUTO_PREFER={prefer} matches none"
    if len(found) == 1:
        return ranked[0], f"found running{note}"
    return ranked[0], f"found running, the largest of {len(found)} models{note}"


def _choose(ports: list[int], prefer: str) -> AutoChoice:
    listed = _probe(ports)
    found = [
        Found(model_id, port, _server_name(port, entries), order)
        for order, (port, entries) in enumerate(zip(ports, listed, strict=True))
        for model_id in _chat_models(entries or [])
    ]
    if not found:
        return AutoChoice(spec=EMBEDDED, reason=_nothing_found(ports, listed))
    pick, reason = model_auto_pick(found, prefer)
    return AutoChoice(
        spec=f"openai:{pick.model_id}",
        reason=reason,
        base_url=f"http://{HOST}:{pick.port}/v1",
        server=pick.server,
    )


def _probe(ports: list[int]) -> list[list[dict] | None]:
    """Each port's model list, or None where nothing usable answered in time."""
    if not ports:
        return []
    deadline = time.monotonic() + 2 * PROBE_TIMEOUT
    pool = ThreadPoolExecutor(max_workers=len(ports), thread_name_prefix="model-probe")
    futures = [pool.submit(_models_listed, port, deadline) for port in ports]
    wait(futures, timeout=2 * PROBE_TIMEOUT + 0.1)
    pool.shutdown(wait=False, cancel_futures=True)  # a late answer is not waited for
    return [_answer(future) for future in futures]


def _answer(future) -> list[dict] | None:
    if not future.done() or future.cancelled() or future.exception() is not None:
        return None
    return future.result()


def _models_listed(port: int, deadline: float) -> list[dict] | None:
    """The entries of GET /v1/models on this port, if it answers with OpenAI's list format."""
    body = b""
    try:
        # Plain HTTP to loopback: no proxy from the environment between us, and no TLS context
        # (building one with the CA bundle costs a tenth of a second per port).
        with httpx.Client(timeout=PROBE_TIMEOUT, trust_env=False, verify=False) as client:
            with client.stream("GET", f"http://{HOST}:{port}/v1/models") as response:
                if response.status_code != 200:
                    return None
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > PROBE_MAX_BYTES or time.monotonic() > deadline:
                        return None
    except httpx.HTTPError:
        return None
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        return None
    entries = [entry for entry in payload["data"] if isinstance(entry, dict)]
    if any(not isinstance(entry.get("id"), str) for entry in entries):
        return None
    return entries


def _chat_models(entries: list[dict]) -> list[str]:
    return [
        entry["id"]
        for entry in entries
        if entry.get("object", "model") == "model"
        and entry["id"].strip()
        and not _NOT_CHAT.search(entry["id"].lower())
    ]


def _server_name(port: int, entries: list[dict] | None) -> str:
    if any(entry.get("owned_by") == "llamacpp" for entry in entries or []):
        return "llama.cpp's server"
    return _BY_PORT.get(port, "an OpenAI-compatible server")


def _nothing_found(ports: list[int], listed: list[list[dict] | None]) -> str:
    if not ports:
        return "SHIPWITH_LLM_AUTO_PORTS names no port to ask"
    silent = [port for port, entries in zip(ports, listed, strict=True) if entries is None]
    parts = [f"no model server answered on {_where(silent)}"] if silent else []
    parts += [
        f"{_server_name(port, entries)} at {HOST}:{port} lists no chat model"
        for port, entries in zip(ports, listed, strict=True)
        if entries is not None
    ]
    return "; ".join(parts)


def _where(ports: list[int]) -> str:
    return f"{HOST}:{ports[0]}" + "".join(f", :{port}" for port in ports[1:])
