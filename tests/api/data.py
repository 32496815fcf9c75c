"""The catalog the API tests read, made in the test database or, through `shipwith shell`, in a
live server's (tests/api/test_schemathesis.py)."""

from shipwith.api.models import Scope
from shipwith.api.services import api_token_create
from shipwith.catalog.models import Tool
from shipwith.comparisons.services import comparisons_publish
from shipwith.panel.models import Review
from shipwith.votes.models import Rating, RatingFit
from tests.factories import (
    add_facts,
    add_source,
    add_tier,
    make_category,
    make_panel,
    make_tool,
)


def catalog_make() -> dict[str, Tool]:
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


def fuzz_data_make(catalog: dict[str, Tool]) -> str:
    """Comparisons, quotes with and without a source, ratings, facts that changed and that
    disagree; return an editor's token."""
    comparisons_publish()
    add_facts(catalog["vllm"])
    add_facts(catalog["ollama"], sources=1)
    docs = catalog["vllm"].sources.get()  # quotes linked to a source as well as to the entry
    Review.objects.filter(tool=catalog["vllm"]).update(
        evidence_quotes=["serves models over HTTP", "Fast LLM serving"],
        evidence_sources=[docs.pk, None],
    )
    fit = RatingFit.objects.create(votes=40, tools=2, rounds=10, seconds=0.1)
    for rank, tool in enumerate([catalog["vllm"], catalog["ollama"]], 1):
        Rating.objects.create(
            fit=fit,
            tool=tool,
            score=1000.0 / rank,
            lower=900.0 / rank,
            upper=1100.0 / rank,
            votes=20,
            rank=rank,
            category_rank=rank,
        )
    _, raw = api_token_create(name="fuzz", scopes=[Scope.PANEL_RUN, Scope.TOOLS_SUBMIT])
    return raw
