"""Settings for bench/votes_http.py: shipwith's own, plus a baseline view's URL.

BENCH_VOTES_CACHE=locmem swaps the default (file) cache for local memory, to show what the
page-freshness stamps written on every vote cost.
"""

import os

from shipwith.settings import *  # noqa: F403

ROOT_URLCONF = "bench.votes_urls"
if os.environ.get("BENCH_VOTES_CACHE") == "locmem":
    CACHES["default"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}  # noqa: F405
