import pytest

from shipwith.catalog.models import Category, PaidTier, Source, Tag, Tool, Vendor

VALID = """\
categories:
  - slug: inference-servers
    name: Inference servers
    description: Serve models over HTTP.
tools:
  - name: vLLM
    slug: vllm
    vendor: vLLM project
    vendor_homepage: https://vllm.ai
    category: inference-servers
    tagline: High-throughput serving with paged attention
    description: An open-source inference and serving engine for LLMs.
    licence: Apache-2.0
    licence_kind: open_source
    homepage: https://github.com/vllm-project/vllm
    release_date: 2023-06-20
    deployment: self_hosted
    entry_price:
      kind: free
    sources:
      - url: https://docs.vllm.ai/
        title: vLLM documentation
        checked_on: 2026-11-01
        snapshot: vLLM exposes an OpenAI-compatible server.
    tags: [serving, open-source]
  - name: Hosted Thing
    category: inference-servers
    entry_price: {kind: amount, amount: 20, currency: USD, period: month}
    tiers:
      - {name: Team, amount: 40.5, period: month, notes: per seat}
      - {name: Enterprise}
"""


def db_snapshot() -> dict:
    """Everything the catalog holds, to compare before and after a failed import."""
    return {
        "categories": list(Category.objects.order_by("pk").values()),
        "vendors": list(Vendor.objects.order_by("pk").values()),
        "tags": list(Tag.objects.order_by("pk").values()),
        "tools": list(Tool.objects.order_by("pk").values()),
        "tiers": list(PaidTier.objects.order_by("pk").values()),
        "sources": list(Source.objects.order_by("pk").values()),
    }


@pytest.fixture
def valid_catalog(catalog_file):
    return catalog_file(VALID)
