"""What a request may get before the app sees it: gunicorn's and the shipped nginx's own answers.

`shipwith up` serves through gunicorn (shipwith/web/gunicorn_conf.py), in production behind
deploy/nginx-shipwith.conf. Both refuse some requests themselves, with a short HTML page
instead of the API's JSON error, whichever operation was asked for. The schema lists these
answers on every operation, each defined once under components.responses, so that a client
(and schemathesis) knows every status it can meet. Statuses and content types as observed
with the locked gunicorn (27) and Debian's nginx (1.22); tests/api/test_schemathesis.py and
tests/deploy/test_nginx_api.py send such requests to both.
"""

from shipwith.web import gunicorn_conf

HTML = {"text/html": {"schema": {"type": "string"}}}
LINE = gunicorn_conf.limit_request_line
FIELD = gunicorn_conf.limit_request_field_size
FIELDS = gunicorn_conf.limit_request_fields
NGINX_BODY = "2 MB"  # client_max_body_size in deploy/nginx-shipwith.conf
NGINX_HEADER = "8 KB"  # nginx's default large_client_header_buffers (4 8k)

# status: (name under components.responses, what makes gunicorn or nginx answer it)
ANSWERS: dict[int, tuple[str, str]] = {
    400: (
        "MalformedRequest",
        "Before the app: a request gunicorn or nginx cannot read (a malformed request line or "
        "header, a bad chunked body, conflicting lengths; through nginx no Host header, or a "
        f"header line or cookie over {NGINX_HEADER}). An HTML page.",
    ),
    413: (
        "BodyTooLarge",
        f"Before the app: nginx refuses a body over {NGINX_BODY} (client_max_body_size). "
        "An HTML page.",
    ),
    414: (
        "RequestLineTooLong",
        "Before the app: the request line (method, path and query, version) is longer than "
        f"gunicorn's limit_request_line ({LINE} bytes) or, through nginx, {NGINX_HEADER}. "
        "An HTML page.",
    ),
    417: (
        "ExpectationFailed",
        "Before the app: gunicorn cannot meet an Expect header other than 100-continue. "
        "An HTML page.",
    ),
    431: (
        "HeaderFieldsTooLarge",
        f"Before the app: a header field over gunicorn's limit_request_field_size ({FIELD} "
        f"bytes), or more than limit_request_fields ({FIELDS}) header fields. An HTML page.",
    ),
    501: (
        "TransferCodingNotImplemented",
        "Before the app: a Transfer-Encoding gunicorn or nginx does not implement (nginx: "
        "anything but chunked). An HTML page.",
    ),
    502: (
        "AppUnreachable",
        "nginx: the app server is down or dropped the connection. An HTML page.",
    ),
    504: (
        "AppTimedOut",
        "nginx: the app server did not answer within 60 s (proxy_read_timeout). An HTML page.",
    ),
    505: (
        "HttpVersionNotSupported",
        "Before the app: nginx refuses a request line naming HTTP/2 or later. An HTML page.",
    ),
}


def server_answers_add(schema: dict) -> dict:
    """Add the server's answers to every operation of an OpenAPI `schema`; return it."""
    shared = schema.setdefault("components", {}).setdefault("responses", {})
    for name, description in ANSWERS.values():
        shared[name] = {"description": description, "content": HTML}
    for path in schema["paths"].values():
        for operation in path.values():
            responses = {int(status): answer for status, answer in operation["responses"].items()}
            for status, (name, description) in ANSWERS.items():
                if own := responses.get(status):  # the app's JSON answer, then the server's page
                    own["description"] += f". Or, {description[0].lower()}{description[1:]}"
                    own["content"] = {**own.get("content", {}), **HTML}
                else:
                    responses[status] = {"$ref": f"#/components/responses/{name}"}
            operation["responses"] = dict(sorted(responses.items()))
    return schema
