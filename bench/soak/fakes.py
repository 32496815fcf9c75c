"""The outside world of the soak, on loopback: a slow, flaky model, a mail sink, a model list.

Each reuses the tests' own servers: the model answers with the panel tests' review and
OpenAI's completion shape (tests/panel), the sink is the newsletter tests' aiosmtpd recorder
keeping only each message's envelope and subject, and the list is time_to_verdict's
OpenRouter-format listing.
"""

import email.parser
import email.policy
import json
import random
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from time_to_verdict import Listing, model_record  # noqa: E402

from tests.deploy.nginx import free_port  # noqa: E402
from tests.newsletter.conftest import Recorder  # noqa: E402
from tests.panel.conftest import good_review  # noqa: E402
from tests.panel.fault_server import PERSONA, completion  # noqa: E402

__all__ = ["Listing", "MailSink", "Model", "model_record", "free_port"]


class Model:
    """An OpenAI-compatible model that answers in `delay` seconds (uniform) and fails a share
    of calls with a 503, as an overloaded server does; it answers reviews and moderator reads
    alike, by the schema it is asked for."""

    def __init__(self, *, delay: tuple[float, float] = (0.5, 3.0), fail: float = 0.05, seed=1):
        self.delay, self.fail = delay, fail
        self.random = random.Random(seed)
        self.calls: Counter = Counter()  # "review" / "read" / "failed"
        self.reviews_asked: Counter = Counter()  # last prompt line ("Write your review of …")
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, body: dict) -> tuple[int, dict, float]:
        """(status, payload, seconds to wait) for one chat completion request."""
        with self._lock:
            delay = self.random.uniform(*self.delay)
            failed = self.random.random() < self.fail
        if failed:
            with self._lock:
                self.calls["failed"] += 1
            return 503, {"error": {"message": "overloaded, try again"}}, delay
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema", {})
        properties = schema.get("properties", {})
        if "pick" in properties:  # the moderator's read of a pair
            content = {"pick": properties["pick"]["enum"][0], "read": "Both hold up; A ships."}
            kind = "read"
        else:
            text = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
            persona = PERSONA.search(text)
            content = good_review(verdict="skip" if persona and persona[1] == "Skeptic" else "ship")
            kind = "review"
            last = str(body["messages"][-1].get("content", "")).strip().splitlines()[-1:]
            with self._lock:
                self.reviews_asked[last[0] if last else ""] += 1
        with self._lock:
            self.calls[kind] += 1
        return 200, completion(json.dumps(content)), delay

    def _handler(self):
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):  # /v1/models: `auto` never asks us, but answer like a server
                self._send(200, {"object": "list", "data": [{"id": "soak-model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, payload, delay = model.answer(body)
                time.sleep(delay)
                self._send(status, payload)

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # a worker killed mid-call

        return Handler


class _EnvelopeRecorder(Recorder):
    """The newsletter tests' recorder, keeping each message's recipients and subject only (a
    20,000-reader send would hold every parsed body otherwise)."""

    _headers = email.parser.BytesHeaderParser(policy=email.policy.default)

    @staticmethod
    def _parse(envelope):
        headers = _EnvelopeRecorder._headers.parsebytes(envelope.content)
        return SimpleNamespace(
            rcpt_tos=list(envelope.rcpt_tos), subject=str(headers["Subject"]), at=time.time()
        )


class MailSink:
    """An SMTP server on loopback recording every recipient of every message."""

    def __init__(self) -> None:
        self.recorder = _EnvelopeRecorder()
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=free_port())
        self._controller.start()
        self.port = self._controller.port

    @property
    def messages(self) -> list:
        with self.recorder.lock:
            return list(self.recorder.messages)

    def stop(self) -> None:
        self._controller.stop()
