import pytest

from shipwith.ingest.fetch import Fetcher, MemoryValidators
from tests.ingest.server import FixtureServer


@pytest.fixture
def server():
    """A loopback fixture server (see tests/ingest/server.py), stopped after the test."""
    with FixtureServer() as running:
        yield running


@pytest.fixture
def validators():
    return MemoryValidators()


@pytest.fixture
def fetcher(validators):
    """A Fetcher allowed to reach the loopback server, with no politeness delay and quick limits."""
    with Fetcher(
        validators=validators,
        allow_private=True,
        host_delay=0,
        read_timeout=2,
        total_timeout=10,
        retry_after_max=3,
    ) as running:
        yield running
