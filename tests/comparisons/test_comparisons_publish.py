"""Publishing comparisons: each tool's nearest peers in its category by text similarity."""

import pytest

from shipwith.comparisons.models import Comparison
from shipwith.comparisons.similarity import Doc, nearest_pairs
from shipwith.core.freshness import tools_touch
from tests.factories import make_category, make_panel, make_tool

pytestmark = pytest.mark.django_db


def test_nearest_pairs_pick_the_most_similar_text_within_a_group():
    docs = [
        Doc(1, 1, "vector database with HNSW index and filtering"),
        Doc(2, 1, "vector database with HNSW index and hybrid search"),
        Doc(3, 1, "a CLI to format YAML files"),
        Doc(4, 2, "vector database with HNSW index and filtering"),
    ]
    pairs = nearest_pairs(docs, peers=1)
    assert (1, 2) in pairs and pairs[(1, 2)] > 0.5
    assert not any(4 in pair for pair in pairs)  # alone in its group


@pytest.fixture
def catalog():
    servers = make_category()
    vectors = make_category("vector-databases", "Vector databases")
    tools = {
        "vllm": make_tool("vllm", tagline="High-throughput LLM serving with paged attention"),
        "sglang": make_tool("sglang", tagline="Fast LLM serving with a structured runtime"),
        "ollama": make_tool("ollama", tagline="Run local models on a laptop", category=servers),
        "qdrant": make_tool("qdrant", tagline="Vector search engine in Rust", category=vectors),
        "milvus": make_tool("milvus", tagline="Vector database at cloud scale", category=vectors),
    }
    return tools


def test_publish_pairs_peers_in_canonical_order_and_only_within_a_category(catalog, run_command):
    output = run_command("comparisons", "publish", "--peers", "1")
    assert "comparisons published" in output
    published = list(Comparison.objects.published().select_related("tool_a", "tool_b"))
    assert published
    for comparison in published:
        assert comparison.tool_a.slug < comparison.tool_b.slug
        assert comparison.tool_a.category_id == comparison.tool_b.category_id
        assert comparison.similarity > 0
    slugs = {(c.tool_a.slug, c.tool_b.slug) for c in published}
    assert ("milvus", "qdrant") in slugs and ("sglang", "vllm") in slugs


def test_publishing_again_is_additive_and_stable(catalog, run_command):
    run_command("comparisons", "publish")
    first = set(Comparison.objects.published().values_list("pk", "published_at"))
    run_command("comparisons", "publish")
    assert set(Comparison.objects.published().values_list("pk", "published_at")) == first


def test_published_comparisons_show_on_home_tool_page_and_feed(catalog, client, run_command):
    run_command("comparisons", "publish")
    home = client.get("/").content.decode()
    assert "/compare/sglang-vs-vllm/" in home
    assert "/compare/sglang-vs-vllm/" in client.get("/tools/vllm/").content.decode()
    feed = client.get("/feeds/comparisons.atom").content.decode()
    assert "Sglang vs Vllm" not in feed  # the feed waits for a verdict on both
    make_panel(catalog["sglang"], "sskk")
    make_panel(catalog["vllm"], "sssk")
    tools_touch(catalog["sglang"].pk, catalog["vllm"].pk)
    feed = client.get("/feeds/comparisons.atom").content.decode()
    assert "Sglang vs Vllm: which one should you ship with?" in feed
    assert "/compare/sglang-vs-vllm/" in client.get("/sitemap-comparisons.xml").content.decode()
