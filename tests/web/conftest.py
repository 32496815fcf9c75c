import pytest
from django.core.cache import cache

from shipwith.web import caching


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Each test starts with empty page and freshness caches."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "web-tests",
        }
    }
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
    cache.clear()
    caching._local.clear()
    yield
    cache.clear()
    caching._local.clear()
