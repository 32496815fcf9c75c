"""Schemathesis against the live schema of a live server: no 5xx, nothing outside the schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from shipwith.api.models import Scope
from shipwith.api.services import api_token_create
from shipwith.panel.models import Review
from shipwith.votes.models import Rating, RatingFit
from shipwith.web.services import comparisons_publish

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
TOKEN = {}
EXAMPLES = 25


@pytest.fixture
def api_schema(live_server, transactional_db, catalog, api_settings):
    """The schema as a client reads it, from a server holding reviewed tools and comparisons."""
    api_settings.SHIPWITH_API_WRITE_RATE = "100000/m"
    comparisons_publish()
    docs = catalog["vllm"].sources.get()  # quotes linked to a source as well as to the entry
    Review.objects.filter(tool=catalog["vllm"]).update(
        evidence_quotes=["serves models over HTTP", "Fast LLM serving"],
        evidence_sources=[docs.pk, None],
    )
    fit = RatingFit.objects.create(votes=40, tools=2, rounds=10, seconds=0.1)
    for rank, tool in enumerate([catalog["vllm"], catalog["ollama"]], 1):
        Rating.objects.create(
            fit=fit,
            tool=tool,
            score=1000.0 / rank,
            lower=900.0 / rank,
            upper=1100.0 / rank,
            votes=20,
            rank=rank,
            category_rank=rank,
        )
    _, TOKEN["raw"] = api_token_create(name="fuzz", scopes=[Scope.PANEL_RUN, Scope.TOOLS_SUBMIT])
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")


def fuzz(operation, mode: GenerationMode, headers: dict) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case):
        case.call_and_validate(checks=CHECKS, headers=headers)

    check()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_schema(api_schema, mode):
    # (schemathesis' own pytest loader does not run on pytest 9, so each operation is driven
    # through its hypothesis strategy here.) With a token and without: the editors'
    # endpoints are checked past their 401 too.
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for headers in ({}, {"Authorization": f"Bearer {TOKEN['raw']}"}):
            try:
                fuzz(operation, mode, headers)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # no invalid input exists for it
            except Exception as exc:  # every operation is tried; all failures are reported
                failures.append(f"{operation.label} {sorted(headers)}: {exc}")
    assert not failures, "\n\n".join(failures)
