"""Around every /api/ request: the per-client rate limit, HEAD answered as GET, hot reads served
from this process's page cache before ninja, and the API's error shape for errors raised outside
the API's views (an unknown path, a wrong method, a crash)."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from shipwith.api.errors import error_response
from shipwith.core.client import client_ip
from shipwith.core.limits import limit_exceeded
from shipwith.core.rates import rate_setting
from shipwith.web.caching import page_cached

PREFIX = "/api/"
logger = logging.getLogger(__name__)


class ApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        if request.method != "HEAD":
            return self._answer(request)
        # HEAD is GET without the body (RFC 9110 section 9.3.2): answered as a GET, it counts
        # against the rate and gets the GET's status, validators, 304s and Content-Length.
        request.method = "GET"
        try:
            response = self._answer(request)
        finally:
            request.method = "HEAD"
        if not response.streaming:
            response["Content-Length"] = str(len(response.content))
            response.content = b""
        return response

    def _answer(self, request: HttpRequest) -> HttpResponse:
        rate = rate_setting("SHIPWITH_API_RATE")
        if wait := limit_exceeded(f"api:ip:{client_ip(request)}", rate):
            response = error_response(429, f"Too many requests: retry in {wait} s.")
            response["Retry-After"] = str(wait)
            return response
        # A hot read this process holds fresh is served before the URL is resolved: ninja's
        # dispatch would only reach the same `freshness_cached` copy (reads take no token).
        if request.method == "GET" and (cached := page_cached(request)) is not None:
            return cached
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            replaced = error_response(response.status_code)
            if "Allow" in response:
                replaced["Allow"] = response["Allow"]
            response = replaced
        if "GET" in response.get("Allow", "").split(", "):
            response["Allow"] += ", HEAD"
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if request.path.startswith(PREFIX) and not settings.DEBUG:
            logger.exception("API error on %s", request.path)
            return error_response(500)
        return None


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
