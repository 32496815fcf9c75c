import os

import pytest
from django.conf import settings
from django.core.management import call_command

# No test asks this machine's model servers by accident: SHIPWITH_LLM=auto (the default) means
# the embedded model here and in every process a test starts. Tests of auto opt in with a
# server of their own (tests/panel/test_panel_auto.py). pytest-django read the settings already.
if os.environ.get("SHIPWITH_LLM", "").strip().lower() in ("", "auto"):
    os.environ["SHIPWITH_LLM"] = "local"
    settings.SHIPWITH_LLM = "local"

# No test reaches a public address by accident: `up` adds no default sources (they are public
# services) and the worker polls nothing (the starter catalog's pages are public), here and in
# every process a test starts. Tests of them opt in, with loopback stand-ins
# (SHIPWITH_INGEST_DEFAULTS_FILE, tests/up/test_up_ingest.py).
for name in ("SHIPWITH_INGEST_DEFAULTS", "SHIPWITH_INGEST_POLL"):
    os.environ[name] = "0"
    setattr(settings, name, False)


@pytest.fixture
def catalog_file(tmp_path):
    """Write a catalog YAML file and return its path."""

    def write(text: str | bytes, name: str = "catalog.yaml"):
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def starter_catalog(db):
    """The bundled starter catalog, loaded into the test database."""
    from shipwith.catalog.services import catalog_load_starter

    catalog_load_starter()


@pytest.fixture
def run_command():
    """Run a shipwith command and return its stdout."""
    import io

    def run(*args: str) -> str:
        out = io.StringIO()
        call_command(*args, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    return run


@pytest.fixture(autouse=True)
def rate_limit_blocks_forgotten():
    """Each test's database starts with no rate counters: no process may hold claimed hits."""
    from shipwith.core import limits

    limits._blocks.forget()
    yield
    limits._blocks.forget()
