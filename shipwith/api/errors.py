"""One error body for every 4xx and 5xx answer of the API, whoever raised it."""

import json
import logging

from django.http import HttpResponse

logger = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    501: "not_implemented",
    503: "unavailable",
}
MESSAGES = {
    400: "The request could not be read.",
    404: "Nothing here: see /api/v1/docs for the endpoints.",
    405: "This method is not allowed here.",
    500: "Something went wrong on our side; it has been logged.",
}


def error_body(status: int, message: str, details: list[dict] | None = None) -> dict:
    return {
        "error": {
            "status": status,
            "code": CODES.get(status, "client_error" if status < 500 else "server_error"),
            "message": message,
            "details": details or [],
        }
    }


def error_response(
    status: int, message: str | None = None, details: list[dict] | None = None
) -> HttpResponse:
    body = error_body(status, message or MESSAGES.get(status, "Request failed."), details)
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def validation_details(errors: list[dict]) -> list[dict]:
    """Pydantic/ninja errors as {where, message}: "query.limit", "body.url"."""
    details = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()))
        # Ninja nests a body's fields under the parameter name ("body.payload.url").
        parts = where.split(".")
        if len(parts) > 2 and parts[0] == "body":
            where = ".".join([parts[0], *parts[2:]])
        details.append({"where": where or "request", "message": str(error.get("msg", "invalid"))})
    return details
