import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.panel.conftest import fault_server, make_tool, personas  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def embedded_model(settings):
    """The panel's model is pinned: the embedded one, a draft model (nothing is probed)."""
    settings.SHIPWITH_LLM = "local"


@pytest.fixture
def status():
    """Run `shipwith status` (with args); return (exit status, stdout)."""

    def run(*args: str) -> tuple[int, str]:
        out = io.StringIO()
        try:
            call_command("status", *args, stdout=out, stderr=io.StringIO())
        except CommandError as exc:
            return exc.returncode, out.getvalue()
        return 0, out.getvalue()

    return run


@pytest.fixture
def status_json(status):
    def run() -> tuple[int, dict]:
        code, out = status("--json")
        return code, json.loads(out)

    return run
