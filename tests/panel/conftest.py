import importlib

import pytest
from django.utils import timezone

from shipwith.catalog.models import Source
from shipwith.panel.llm import registry
from shipwith.panel.llm.mock import MockModel
from tests import factories
from tests.panel.fault_server import FaultServer, Reply

SNAPSHOT = (
    "Quillstack indexes a repository in under a minute and answers questions about it. "
    "The vendor says its retrieval beats every open-source alternative on its internal benchmark."
)

PRICES_URL = "https://openrouter.ai/api/v1/models"


def good_review(verdict: str = "ship", **changes) -> dict:
    """A review that passes every check: 110 words, quotes taken from SNAPSHOT."""
    review = {
        "verdict": verdict,
        "take": ("The index builds fast and the answers cite files. " * 11).strip(),
        "confidence": 4,
        "competitors": ["Sourcegraph Cody", "Continue"],
        "key_risk": "Indexing cost grows with the monorepo.",
        "claim_to_pressure": "Retrieval beats every open-source alternative.",
        "evidence_quotes": ["indexes a repository in under a minute"],
    }
    return review | changes


@pytest.fixture
def personas(db):
    """The four personas of the data migration (transactional tests flush them)."""
    migration = importlib.import_module("shipwith.panel.migrations.0003_personas")
    from django.apps import apps

    migration.add_personas(apps, None)
    from shipwith.panel.models import Persona

    return list(Persona.objects.order_by("position"))


@pytest.fixture
def make_tool(db):
    def make(
        slug="quillstack",
        vendor="Quillstack Labs",
        description="",
        snapshot=SNAPSHOT,
        category="coding",
    ):
        tool = factories.make_tool(
            slug,
            name=slug.title(),
            vendor=vendor,
            category=factories.make_category(category, category.replace("-", " ").capitalize()),
            plain=True,
            tagline="Answers questions about your codebase",
            description=description
            or "Quillstack is a code search assistant for large repositories.",
        )
        Source.objects.create(
            tool=tool,
            url="https://example.com/quillstack",
            title="Launch post",
            checked_on=timezone.now().date(),
            snapshot=snapshot,
        )
        return tool

    return make


def facts_record_for(
    tool, *, source_url=PRICES_URL, source_title="OpenRouter models", read_at=None, **values
):
    """Record what a source says of the tool's facts (read now unless `read_at` says)."""
    from shipwith.catalog.readings import facts_record

    facts_record(
        tool_id=tool.pk,
        source_url=source_url,
        source_title=source_title,
        read_at=read_at or timezone.now(),
        values=values,
    )


@pytest.fixture
def mock_model():
    """Register "mock:ID" specs: a MockModel per ID, all sharing this one's queue and history."""
    model = MockModel()

    def factory(model_id: str) -> MockModel:
        one = MockModel(model_id or "mock", concurrent=model.concurrent)
        one.responses, one.history = model.responses, model.history
        return one

    registry.register("mock", factory)
    yield model
    registry.unregister("mock")


@pytest.fixture
def fault_server(settings, monkeypatch):
    """A misbehaving OpenAI-compatible server on loopback; the panel is pointed at it."""
    from shipwith.panel.llm import openai_compat

    server = FaultServer(default=Reply(good_review())).start()
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setattr(openai_compat, "_learned_modes", {})
    settings.SHIPWITH_LLM = "openai:fake-model"
    settings.SHIPWITH_LLM_TIMEOUT = 0.5
    settings.SHIPWITH_LLM_RETRIES = 2
    settings.SHIPWITH_LLM_BACKOFF = 0.01
    yield server
    server.stop()


@pytest.fixture
def auto(settings, monkeypatch):
    """SHIPWITH_LLM=auto asking only the ports a test names (none until it does), afresh."""
    from shipwith.panel.llm import discover, openai_compat

    settings.SHIPWITH_LLM = "auto"
    settings.SHIPWITH_LLM_AUTO_PORTS = []
    settings.SHIPWITH_LLM_AUTO_PREFER = ""
    settings.SHIPWITH_LLM_TIMEOUT = 0.5
    settings.SHIPWITH_LLM_RETRIES = 2
    settings.SHIPWITH_LLM_BACKOFF = 0.01
    monkeypatch.setattr(discover, "_chosen", {})
    monkeypatch.setattr(openai_compat, "_learned_modes", {})
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("SHIPWITH_LLM_BASE_URL", raising=False)
    return settings


@pytest.fixture
def model_server():
    """Start loopback OpenAI-compatible servers that list the given models (or body)."""
    servers = []

    def start(models, default: Reply | None = None) -> FaultServer:
        server = FaultServer(default=default or Reply(good_review()), models=models).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
