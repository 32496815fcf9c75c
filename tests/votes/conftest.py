import pytest
from django.core.cache import caches

from shipwith.catalog.models import Category, Tool


@pytest.fixture(autouse=True)
def _fresh_caches(settings):
    """The refit debounce must not leak between tests (rate counters roll back with the test).

    Tests here mint many voters from one test address; the tests about minting set their own
    SHIPWITH_VOTES_NEW_VOTERS_PER_IP.
    """
    settings.SHIPWITH_VOTES_NEW_VOTERS_PER_IP = "1000"
    caches["default"].clear()
    yield
    caches["default"].clear()


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
