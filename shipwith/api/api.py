"""The NinjaAPI behind /api/v1/: its routers, its docs page and one error shape."""

import hashlib
import logging
import time

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.cache import cache_control
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from shipwith.api import editors, reads
from shipwith.api.auth import RateLimited
from shipwith.api.errors import error_response, validation_details
from shipwith.api.server_answers import server_answers_add

logger = logging.getLogger(__name__)

DESCRIPTION = """Verdicts of shipwith's four-reviewer panel, readers' votes and comparisons.

Reads are open to everyone (CORS allows any origin), answer with `ETag` and `Last-Modified`,
and honour `If-None-Match`; `HEAD` answers like `GET`, without the body.
Lists page in a stable order: follow `next` until it is null.
Each client may make `SHIPWITH_API_RATE` requests (429 with `Retry-After` beyond).
Editors' endpoints need `Authorization: Bearer <token>` with the right scope.
Every 4xx and 5xx answer of the app is `{"error": {"status", "code", "message", "details"}}`;
gunicorn and nginx refuse some requests before the app sees them, with an HTML page (an
over-long request line gets 414): each operation lists those answers too.
"""

# Swagger UI styles some elements inline; its scripts are still our own files.
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


# The schema and the docs page change only with the code: built once per process, then
# served with validators like every other read.
LOADED_AT = time.time()


def docs_page(view):
    built: dict[str, tuple[bytes, str]] = {}

    @cache_control(max_age=300, public=True)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.path not in built:
            page = view(request, *args, **kwargs)
            built[request.path] = (page.content, page["Content-Type"])
        body, content_type = built[request.path]
        response = HttpResponse(body, content_type=content_type)
        response["Content-Security-Policy"] = DOCS_POLICY
        response["ETag"] = f'"{hashlib.md5(body).hexdigest()}"'
        response["Last-Modified"] = http_date(LOADED_AT)
        return get_conditional_response(
            request, etag=response["ETag"], last_modified=int(LOADED_AT), response=response
        )

    return wrapper


class ShipwithAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        return server_answers_add(super().get_openapi_schema(**kwargs))


api = ShipwithAPI(
    title="shipwith API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-1",
    docs=Swagger(settings={"deepLinking": True, "defaultModelsExpandDepth": 0}),
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=docs_page,
)
api.add_router("/", reads.router)
api.add_router("/", editors.router)


@api.exception_handler(reads.Invalid)
def _invalid(request, exc: reads.Invalid):
    return reads.invalid_response(exc)


@api.exception_handler(ValidationError)
def _validation(request, exc: ValidationError):
    details = validation_details(exc.errors)
    summary = "; ".join(f"{d['where']}: {d['message']}" for d in details[:3])
    return error_response(422, f"Invalid input: {summary}", details)


@api.exception_handler(Http404)
def _not_found(request, exc: Http404):
    return error_response(404, str(exc) or None)


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc: AuthenticationError):
    response = error_response(
        401,
        "An API token is needed: send `Authorization: Bearer <token>` with a token that is "
        "neither unknown, revoked nor expired.",
    )
    response["WWW-Authenticate"] = 'Bearer realm="shipwith"'
    return response


@api.exception_handler(RateLimited)
def _rate_limited(request, exc: RateLimited):
    response = error_response(429, exc.message)
    response["Retry-After"] = str(exc.wait)
    return response


UNREADABLE_BODY = "Cannot parse request body"  # ninja's words for a body it cannot read


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400 and exc.message == UNREADABLE_BODY:
        message = "The request body must be JSON, sent as Content-Type: application/json."
        return error_response(400, message, [{"where": "body", "message": message}])
    return error_response(exc.status_code, exc.message)


@api.exception_handler(Exception)
def _server_error(request, exc: Exception):
    logger.exception("API error on %s", request.path)
    return error_response(500)
