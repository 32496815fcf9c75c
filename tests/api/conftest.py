import pytest
from django.core.cache import caches

from shipwith.web import caching
from tests.api.data import catalog_make


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
    return catalog_make()
