"""The throughput baseline: a bare Django `cache_page` view serving the same HTML.

Same settings, middleware and cache as shipwith; only the URLconf differs. Used by
web_throughput.py as DJANGO_SETTINGS_MODULE=web_bare_site with bench/ on the Python path.
"""

import os
from pathlib import Path

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.cache import cache_page

from shipwith.settings import *  # noqa: F403

ROOT_URLCONF = "web_bare_site"
PAGE = Path(os.environ.get("SHIPWITH_BENCH_PAGE", "/dev/null"))


@cache_page(3600)
def bare(request):
    return HttpResponse(PAGE.read_bytes(), content_type="text/html; charset=utf-8")


urlpatterns = [path("bare/", bare)]
