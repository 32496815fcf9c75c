"""CORS for /api/: reads open to any origin, preflights answered, nothing for other paths.

Our own lines rather than django-cors-headers: that middleware built `request.headers` (every
header of the request) to find `Origin` on each API request, and ran a regex and a signal on
every page; this reads `Origin` from META and decides by the path's prefix. The answers are the
same: `Vary: Origin` on every /api/ response, `Access-Control-Allow-Origin: *` with the exposed
headers when the request names an origin, and a preflight (`OPTIONS` with
`Access-Control-Request-Method`) answered here with an empty 200 before the rest of the stack.
"""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from shipwith.api.middleware import PREFIX  # one place says where the API lives

EXPOSE_HEADERS = "ETag, Last-Modified, Retry-After"
# What a preflight allows: reads only; the write endpoints are not offered to other sites.
ALLOW_METHODS = "GET, HEAD, OPTIONS"
ALLOW_HEADERS = "accept, if-none-match, if-modified-since"
PREFLIGHT_MAX_AGE = "86400"


class CorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        meta = request.META
        if request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in meta:
            response = HttpResponse(headers={"Content-Length": "0"})
        else:
            response = self.get_response(request)
        if "Vary" in response:
            patch_vary_headers(response, ("Origin",))
        else:
            response["Vary"] = "Origin"
        origin = meta.get("HTTP_ORIGIN")
        if origin and _readable(origin):
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            if request.method == "OPTIONS":
                response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
                response["Access-Control-Allow-Methods"] = ALLOW_METHODS
                response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response


def _readable(origin: str) -> bool:
    """Whether an Origin header parses as a URL: one that does not gets no CORS answer."""
    try:
        urlsplit(origin)
    except ValueError:
        return False
    return True
