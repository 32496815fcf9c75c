"""Schemathesis against the live schema of a live server: no 5xx, nothing outside the schema.

Twice: on Django's test server in this process (many cases, cheap), and on gunicorn as
`shipwith up` runs it, which answers some requests itself before the app sees them (an HTML
414 for a request line over its limit): those answers must be in the schema too.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shipwith.web import gunicorn_conf
from tests.api.data import fuzz_data_make
from tests.votes.live import live_site

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25
# Each gunicorn case is a real request to other processes: 10 per operation, mode and token
# keep both modes near 10 s on 2 shared cores (the server takes ~15 s more to set up). Breadth
# comes from EXAMPLES in-process; this run is for what only the real server does.
GUNICORN_EXAMPLES = 10
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
SETUP = (
    "from tests.api.data import catalog_make, fuzz_data_make; print(fuzz_data_make(catalog_make()))"
)


@pytest.fixture
def api_schema(live_server, transactional_db, catalog, api_settings):
    """The schema as a client reads it, with an editor's token, from a server holding reviewed
    tools and comparisons."""
    api_settings.SHIPWITH_API_WRITE_RATE = "100000/m"
    token = fuzz_data_make(catalog)
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json"), token


@pytest.fixture(scope="module")
def gunicorn_api(tmp_path_factory):
    """The same, from gunicorn with `up`'s config module, on a migrated database of its own."""
    env = {"SHIPWITH_API_RATE": "100000/m", "SHIPWITH_API_WRITE_RATE": "100000/m"}
    with live_site(tmp_path_factory.mktemp("gunicorn"), tools=1, env=env) as site:
        token = site.shell(SETUP).split()[-1]  # after what the shell prints on start
        yield schemathesis.openapi.from_url(f"{site.url}/api/v1/openapi.json"), token


def fuzz(operation, mode: GenerationMode, headers: dict, examples: int) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case):
        case.call_and_validate(checks=CHECKS, headers=headers)

    check()


def failures_find(schema, token: str, mode: GenerationMode, examples: int) -> list[str]:
    # (schemathesis' own pytest loader does not run on pytest 9, so each operation is driven
    # through its hypothesis strategy here.) With a token and without: the editors'
    # endpoints are checked past their 401 too.
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            try:
                fuzz(operation, mode, headers, examples)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # no invalid input exists for it
            except Exception as exc:  # every operation is tried; all failures are reported
                failures.append(f"{operation.label} {sorted(headers)}: {exc}")
    return failures


@pytest.mark.parametrize("mode", MODES)
def test_the_api_keeps_to_its_schema(api_schema, mode):
    failures = failures_find(*api_schema, mode, EXAMPLES)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("mode", MODES)
def test_the_api_keeps_to_its_schema_on_gunicorn(gunicorn_api, mode):
    failures = failures_find(*gunicorn_api, mode, GUNICORN_EXAMPLES)
    assert not failures, "\n\n".join(failures)


# Requests over gunicorn's limits, which random cases seldom reach: `up`'s gunicorn answers
# them itself, with its HTML page.
LINE = gunicorn_conf.limit_request_line
FIELD = gunicorn_conf.limit_request_field_size
FIELDS = gunicorn_conf.limit_request_fields
OVER_THE_LIMITS = {
    "request line": ({"q": "a" * (LINE + 1)}, {}, 414),
    "header field": ({}, {"X-Pad": "a" * (FIELD + 1)}, 431),
    "header fields": ({}, {f"X-Pad-{n}": "a" for n in range(FIELDS + 1)}, 431),
}


@pytest.mark.parametrize(
    ("query", "headers", "status"), OVER_THE_LIMITS.values(), ids=OVER_THE_LIMITS.keys()
)
def test_gunicorns_own_answers_are_in_the_schema(gunicorn_api, query, headers, status):
    schema, _ = gunicorn_api
    case = schema["/api/v1/tools"]["GET"].Case(query=query)
    response = case.call(headers=headers)
    assert (response.status_code, response.headers["content-type"]) == (status, ["text/html"])
    case.validate_response(response, checks=[status_code_conformance, content_type_conformance])
