"""The Anthropic provider against a fake Messages API on loopback (structured via a tool)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shipwith.panel.models import Review, RunStatus, SeatStatus
from shipwith.panel.runs import panel_run
from tests.panel.conftest import good_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def messages_api(monkeypatch):
    seen = []

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body)
            payload = json.dumps(
                {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": body["model"],
                    "content": [
                        {"type": "tool_use", "id": "t1", "name": "answer", "input": good_review()}
                    ],
                    "stop_reason": "tool_use",
                    "stop_sequence": None,
                    "usage": {"input_tokens": 300, "output_tokens": 90},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
    yield seen
    server.shutdown()
    server.server_close()


def test_an_anthropic_panel_is_stored_with_its_provider(messages_api, personas, make_tool):
    tool = make_tool()
    run = panel_run(tool_id=tool.pk, model_spec="anthropic:claude-test")
    assert run.status == RunStatus.COMPLETE
    review = Review.objects.filter(tool=tool).first()
    assert (review.provider, review.model_id, review.tokens_in) == ("anthropic", "claude-test", 300)
    request = messages_api[0]
    assert request["tool_choice"] == {"type": "tool", "name": "answer"}
    assert request["tools"][0]["input_schema"]["properties"]["verdict"]["enum"] == ["ship", "skip"]


def test_an_anthropic_model_recuses_itself_from_anthropic_tools(messages_api, personas, make_tool):
    run = panel_run(tool_id=make_tool(vendor="Anthropic").pk, model_spec="anthropic:claude-test")
    assert {seat.status for seat in run.seats.all()} == {SeatStatus.RECUSED}
    assert messages_api == []
