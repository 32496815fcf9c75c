import pytest
from django.core.cache import caches

from shipwith.web import caching
from tests.web.factories import add_source, add_tier, make_category, make_panel, make_tool


def forget() -> None:
    for alias in ("default", "votes"):
        caches[alias].clear()
    caching._local.clear()
    caching._versions.clear()


@pytest.fixture(autouse=True)
def api_settings(settings):
    """Fresh page, freshness and rate-limit caches; a limit no ordinary test reaches."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"},
        "votes": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-r"},
    }
    settings.SHIPWITH_FRESHNESS_MEMO_SECONDS = 0
    settings.SHIPWITH_API_RATE = "100000/m"
    settings.SHIPWITH_BASE_URL = "http://shipwith.test"
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
    forget()
    yield settings
    forget()


@pytest.fixture
def catalog(db):
    """Two categories; inference servers with complete, split and incomplete panels."""
    servers = make_category()
    stores = make_category("vector-stores", "Vector stores")
    tools = {
        "vllm": make_tool("vllm", category=servers, tagline="Fast LLM serving"),
        "ollama": make_tool(
            "ollama", category=servers, deployment="both", licence_kind="open_source"
        ),
        "tgi": make_tool("tgi", category=servers, price_kind="contact", licence_kind="proprietary"),
        "qdrant": make_tool(
            "qdrant", category=stores, price_kind="amount", price_amount=25, price_period="month"
        ),
    }
    make_panel(tools["vllm"], "ssss", evidence_quotes=["serves models over HTTP"])
    make_panel(tools["ollama"], "sskk", competitors=["vLLM"], key_risk="Single-box scale")
    make_panel(tools["tgi"], "kk")
    make_panel(tools["qdrant"], "skkk")
    add_tier(tools["qdrant"], "Cloud", 25)
    add_source(tools["vllm"])
    return tools
