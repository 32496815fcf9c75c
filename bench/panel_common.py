"""Shared by the panel benchmarks: a fake OpenAI-compatible server and a scratch database."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REVIEW = {
    "verdict": "ship",
    "take": ("The index builds fast and the answers cite the files they used. " * 9).strip(),
    "confidence": 4,
    "competitors": ["Rivalbase"],
    "key_risk": "Cost grows with the repository.",
    "claim_to_pressure": "Fast indexing.",
    "evidence_quotes": ["indexes a repository in under a minute"],
}
SNAPSHOT = "Benchtool indexes a repository in under a minute and answers questions about it."


def serve(port: int, delay: float) -> None:
    """Answer every chat completion with the same valid review after `delay` seconds."""
    body = json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(REVIEW)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 500, "completion_tokens": 150, "total_tokens": 650},
        }
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to every call

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            if delay:
                time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(delay: float) -> tuple[subprocess.Popen, str]:
    """Run the fake server in its own process so it does not share our GIL."""
    port = free_port()
    code = f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); import panel_common; "
    code += f"panel_common.serve({port}, {delay})"
    process = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the fake server did not start")


def django_with_scratch_db() -> Path:
    """Point Django at a fresh SQLite (WAL) file, migrate it, and return its folder."""
    home = Path(tempfile.mkdtemp(prefix="shipwith-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{home / 'bench.sqlite3'}"
    os.environ["SHIPWITH_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipwith.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return home


def make_tools(count: int, prefix: str) -> list[int]:
    from shipwith.catalog.models import Category, Source, Tool

    category, _ = Category.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    Tool.objects.bulk_create(
        Tool(name=f"{prefix} {i}", slug=f"{prefix}-{i}", category=category) for i in range(count)
    )
    tools = list(Tool.objects.filter(slug__startswith=f"{prefix}-").values_list("pk", flat=True))
    Source.objects.bulk_create(
        Source(tool_id=pk, url="https://example.com", snapshot=SNAPSHOT) for pk in tools
    )
    return tools
