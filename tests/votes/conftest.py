import pytest
from django.core.cache import caches

from shipwith.catalog.models import Category, Tool


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Rate-limit counters and the refit debounce must not leak between tests."""
    for alias in ("default", "votes"):
        caches[alias].clear()
    yield
    for alias in ("default", "votes"):
        caches[alias].clear()


@pytest.fixture
def category(db):
    return Category.objects.create(name="Inference servers", slug="inference-servers")


@pytest.fixture
def other_category(db):
    return Category.objects.create(name="Vector databases", slug="vector-databases")


@pytest.fixture
def tools(category):
    """Three tools in one category, slugs in alphabetical order."""
    return [
        Tool.objects.create(name=name, slug=slug, category=category)
        for name, slug in [
            ("Alpha Serve", "alpha"),
            ("Beta <b>LLM</b>", "beta"),
            ("Gamma", "gamma"),
        ]
    ]


@pytest.fixture
def tool(tools):
    return tools[0]
