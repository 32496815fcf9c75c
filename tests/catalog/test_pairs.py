"""One name for a pair of tools, "<a>-vs-<b>": canonical order, and slugs that hold "-vs-"."""

import pytest

from shipwith.catalog.models import Category, Tool
from shipwith.catalog.pairs import canonical, pair_resolve, pair_slug, pair_splits


def test_a_pair_is_named_in_canonical_order_whichever_order_it_is_given_in():
    a, b = Tool(slug="vllm"), Tool(slug="ollama")
    assert pair_slug(a, b) == pair_slug(b, a) == "ollama-vs-vllm"
    assert canonical(a, b) == (b, a)


def test_every_reading_of_a_name_is_tried_leftmost_first():
    assert pair_splits("a-vs-b-vs-c") == [("a", "b-vs-c"), ("a-vs-b", "c")]
    assert pair_splits("x-vs-vs-y") == [("x", "vs-y"), ("x-vs", "y")]  # overlapping separators
    assert pair_splits("-vs-a") == [] and pair_splits("vllm") == []


@pytest.mark.django_db
def test_slugs_that_contain_the_separator_resolve():
    category = Category.objects.create(slug="models", name="Models")
    for slug in ("llama-vs-code", "qwen", "llama"):
        Tool.objects.create(slug=slug, name=slug, category=category)
    a, b = pair_resolve("llama-vs-code-vs-qwen")
    assert (a.slug, b.slug) == ("llama-vs-code", "qwen")
    b, a = pair_resolve("qwen-vs-llama-vs-code")  # the order named is kept: the caller redirects
    assert (b.slug, a.slug) == ("qwen", "llama-vs-code")
    assert pair_resolve("llama-vs-llama") is None  # a tool is never compared with itself
    assert pair_resolve("llama-vs-nothing") is None
