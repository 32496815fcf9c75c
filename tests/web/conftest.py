import pytest
from django.core.cache import cache

from shipwith.web import caching


def forget_pages() -> None:
    cache.clear()
    caching._local.clear()
    caching._versions.clear()


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Each test starts with empty page and freshness caches, read afresh on every request."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "web-tests",
        }
    }
    settings.SHIPWITH_FRESHNESS_MEMO_SECONDS = 0  # test_page_cache covers the memo
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
    forget_pages()
    yield
    forget_pages()
