"""Around every /api/ request: the per-client rate limit, and the API's error shape for errors
raised outside the API's views (an unknown path, a wrong method, a crash)."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from shipwith.api.errors import error_response
from shipwith.core.limits import client_ip, limit_exceeded, rate_parse

PREFIX = "/api/"
logger = logging.getLogger(__name__)


class ApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        rate = rate_parse(getattr(settings, "SHIPWITH_API_RATE", "300/m"))
        if wait := limit_exceeded(f"api:ip:{client_ip(request)}", rate):
            response = error_response(429, f"Too many requests: retry in {wait} s.")
            response["Retry-After"] = str(wait)
            return response
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            replaced = error_response(response.status_code)
            if "Allow" in response:
                replaced["Allow"] = response["Allow"]
            return replaced
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if request.path.startswith(PREFIX) and not settings.DEBUG:
            logger.exception("API error on %s", request.path)
            return error_response(500)
        return None


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
