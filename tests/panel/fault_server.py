"""An OpenAI-compatible server of our own on loopback that misbehaves on cue."""

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PERSONA = re.compile(r"You are the (\w+)\.")


@dataclass
class Reply:
    """One scripted answer: a review (dict) or raw content, or an HTTP fault."""

    content: dict | str | None = None
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    finish_reason: str = "stop"
    body: bytes | None = None  # sent as is, e.g. malformed JSON


@dataclass
class Seen:
    at: float
    persona: str
    body: dict


class FaultServer:
    """Answers per persona from a script; the last reply of a script repeats."""

    def __init__(self, default: Reply, *, models: list[str | dict] | bytes | None = None):
        self.default = default
        # GET /v1/models: ids (or whole entries) listed in OpenAI's format, or a raw body.
        self.models = models
        self.scripts: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self.listings: list[float] = []  # when GET /v1/models was asked
        self.reject_json_schema = 0  # an HTTP status to refuse json_schema with
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, persona: str, *replies: Reply) -> None:
        self.scripts[persona] = list(replies)

    def seen(self, persona: str) -> list[Seen]:
        return [request for request in self.requests if request.persona == persona]

    def start(self) -> "FaultServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, persona: str) -> Reply:
        with self._lock:
            script = self.scripts.get(persona)
            if not script:
                return self.default
            return script.pop(0) if len(script) > 1 else script[0]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                with server._lock:
                    server.listings.append(time.monotonic())
                if self.path.rstrip("/") != "/v1/models" or server.models is None:
                    return self._send(404, {"error": {"message": "not found"}})
                if isinstance(server.models, bytes):
                    return self._send(200, server.models, {"Content-Type": "text/html"})
                return self._send(200, model_list(server.models))

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                text = " ".join(str(m.get("content", "")) for m in body["messages"])
                match = PERSONA.search(text)
                persona = match.group(1) if match else ""
                with server._lock:
                    server.requests.append(Seen(time.monotonic(), persona, body))
                response_format = body.get("response_format") or {}
                if server.reject_json_schema and response_format.get("type") == "json_schema":
                    # llama.cpp's server says so with a 500 naming the field; others with a 400.
                    message = {"error": {"message": "response_format: json_schema unsupported"}}
                    return self._send(server.reject_json_schema, message)
                reply = server._next(persona)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.body is not None:
                    return self._send(reply.status, reply.body, reply.headers)
                if reply.status != 200:
                    return self._send(reply.status, {"error": {"message": "fault"}}, reply.headers)
                content = reply.content
                if isinstance(content, dict):
                    content = json.dumps(content)
                return self._send(200, completion(content, reply.finish_reason), reply.headers)

            def _send(self, status, payload, headers=None):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    headers = {"Content-Type": "application/json"} | (headers or {})
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout case)

        return Handler


def completion(content: str, finish_reason: str = "stop") -> dict:
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 80, "total_tokens": 200},
    }


def model_list(models: list[str | dict]) -> dict:
    """GET /v1/models as Ollama answers it (llama.cpp's server and LM Studio alike)."""
    entries = [
        {"id": model, "object": "model", "created": 1735689600, "owned_by": "library"}
        if isinstance(model, str)
        else model
        for model in models
    ]
    return {"object": "list", "data": entries}
