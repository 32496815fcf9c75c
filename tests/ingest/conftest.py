import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from shipwith.catalog.models import Category, Tool, Vendor
from shipwith.ingest.fetch import Fetcher, MemoryValidators
from shipwith.ingest.items import Facts, Identifiers, Item, Page
from shipwith.ingest.models import IngestSource
from tests.ingest.server import FixtureServer


@pytest.fixture
def categories(db):
    rows = [
        (
            "hosted-models",
            "Hosted models (APIs)",
            "Proprietary models that you reach through the vendor's API, billed per token.",
        ),
        (
            "open-weight-models",
            "Open-weight models",
            "Models whose weights are published for download, to run and fine-tune yourself.",
        ),
        (
            "inference-servers",
            "Inference servers",
            "Software that serves models over HTTP on your own hardware.",
        ),
        (
            "vector-databases",
            "Vector databases",
            "Databases that store embeddings and answer similarity search queries.",
        ),
    ]
    return {
        slug: Category.objects.create(slug=slug, name=name, description=description)
        for slug, name, description in rows
    }


@pytest.fixture
def gpt4o_mini(categories):
    """A known tool priced per 1M input tokens, as the starter catalog has it."""
    return Tool.objects.create(
        name="GPT-4o mini",
        slug="gpt-4o-mini",
        vendor=Vendor.objects.create(name="OpenAI", slug="openai"),
        category=categories["hosted-models"],
        licence="Proprietary",
        licence_kind="proprietary",
        price_kind="usage",
        price_amount=Decimal("0.15"),
        price_unit="1M input tokens",
        openrouter_slug="openai/gpt-4o-mini",
        aliases="gpt-4o-mini-2024-07-18",
    )


@pytest.fixture
def make_source(db):
    def make(name: str = "openrouter", kind: str = "openrouter", **fields) -> IngestSource:
        return IngestSource.objects.create(name=name, kind=kind, **fields)

    return make


def make_item(name: str, *, key: str | None = None, page_text: str = "", **fields) -> Item:
    identifiers = Identifiers(
        **{k: fields.pop(k) for k in ("huggingface", "openrouter", "github") if k in fields}
    )
    facts = Facts(**{k: fields.pop(k) for k in list(fields) if k in Facts.model_fields})
    now = timezone.now()
    page = None
    if page_text:
        page = Page(
            url=fields.get("url", "https://example.org/"),
            title=name,
            text=page_text,
            fetched_at=now,
        )
    return Item(
        key=key or name.lower(),
        name=name,
        url=fields.pop("url", f"https://example.org/{(key or name).lower().replace(' ', '-')}"),
        seen_at=fields.pop("seen_at", now - dt.timedelta(days=1)),
        identifiers=identifiers,
        facts=facts,
        page=page,
        **fields,
    )


@pytest.fixture(autouse=True)
def fresh_caches():
    """Page caches and freshness stamps start empty in every test."""
    from django.core.cache import caches

    from shipwith.web import caching

    for cache in caches.all(initialized_only=True):
        cache.clear()
    caching._local.clear()
    yield


@pytest.fixture(autouse=True)
def any_port(settings):
    """The fixture servers listen on random ports, so ingest tests allow every port unless a
    test says otherwise (production allows 80 and 443)."""
    settings.SHIPWITH_INGEST_ALLOWED_PORTS = range(1, 65536)


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
