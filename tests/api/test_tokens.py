"""Editor tokens: made and revoked in the admin, stored hashed, scoped; never a cookie."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shipwith.api.models import ApiToken, Scope
from shipwith.api.services import api_token_create
from shipwith.panel.models import PanelRun, RunStatus

pytestmark = pytest.mark.django_db(transaction=True)


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "content_type": "application/json"}


def test_an_editor_creates_a_token_in_the_admin_and_sees_it_once(admin_client, catalog):
    response = admin_client.post(
        "/admin/api/apitoken/add/", {"name": "release bot", "scopes": [Scope.PANEL_RUN]}
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    shown = re.search(r">(sw_[A-Za-z0-9_-]{40,})<", response.content.decode())
    assert shown, "the new token is shown once"
    raw = shown.group(1)
    assert raw not in str(admin_client.session.items())
    assert raw not in str(response.cookies)
    token = ApiToken.objects.get()
    assert token.name == "release bot" and token.scopes == ["panel:run"]
    assert raw not in str(ApiToken.objects.values().get()), "only a hash is stored"
    assert raw.startswith(token.prefix)
    page = admin_client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    assert raw not in page
    started = admin_client.post("/api/v1/tools/vllm/panel-runs", **bearer(raw))
    assert started.status_code == 202


def test_a_body_that_is_not_json_is_a_clear_400(client, catalog):
    _, raw = api_token_create(name="ci", scopes=[Scope.PANEL_RUN])
    response = client.post(
        "/api/v1/tools/vllm/panel-runs", {"model": "x"}, HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 400
    assert "application/json" in response.json()["error"]["message"]
    assert not PanelRun.objects.exists()


def test_starting_a_panel_run_queues_it_for_the_worker(client, catalog):
    token, raw = api_token_create(name="ci", scopes=[Scope.PANEL_RUN])
    response = client.post(
        "/api/v1/tools/vllm/panel-runs",
        {"model": "openai:gpt-4o-mini"},
        **bearer(raw),
    )
    assert response.status_code == 202
    body = response.json()
    run = PanelRun.objects.get(pk=body["run"])
    assert body["tool"] == "vllm" and body["status"] == "queued"
    assert run.model_spec == "openai:gpt-4o-mini" and run.status == RunStatus.QUEUED
    assert DBTaskResult.objects.get().args_kwargs["args"] == [run.pk]
    # Asking again while it waits returns the same run rather than a second one.
    again = client.post(
        "/api/v1/tools/vllm/panel-runs", {"model": "openai:gpt-4o-mini"}, **bearer(raw)
    )
    assert again.json()["run"] == run.pk
    status = client.get(f"/api/v1/panel-runs/{run.pk}", **bearer(raw)).json()
    assert status["status"] == "queued"
    assert [(s["persona"], s["status"]) for s in status["seats"]] == [
        ("builder", "pending"),
        ("skeptic", "pending"),
        ("futurist", "pending"),
        ("operator", "pending"),
    ]
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_a_bad_model_spec_is_refused_before_anything_is_queued(client, catalog):
    _, raw = api_token_create(name="ci", scopes=[Scope.PANEL_RUN])
    response = client.post(
        "/api/v1/tools/vllm/panel-runs",
        {"model": "gemini-pro"},
        **bearer(raw),
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["where"] == "body.model"
    assert not PanelRun.objects.exists()


def test_a_local_model_outside_the_installed_ones_is_refused(client, catalog, tmp_path, settings):
    # A token must not make the worker load any file it names, here a real GGUF file.
    from shipwith.panel.llm.embedded import gguf_path

    settings.SHIPWITH_LOCAL_MODELS_DIR = tmp_path / "models"
    (tmp_path / "models").mkdir()
    elsewhere = tmp_path / "elsewhere" / "model.gguf"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(gguf_path().read_bytes()[:4096])
    _, raw = api_token_create(name="ci", scopes=[Scope.PANEL_RUN])
    for spec in (f"local:{elsewhere}", "local:../elsewhere/model.gguf", "local:/etc/passwd"):
        response = client.post("/api/v1/tools/vllm/panel-runs", {"model": spec}, **bearer(raw))
        assert response.status_code == 422, spec
        assert response.json()["error"]["details"][0]["where"] == "body.model"
    assert "not one of the installed models" in str(response.json()) or "GGUF" in str(
        response.json()
    )
    assert not PanelRun.objects.exists()
    installed = tmp_path / "models" / "mine.gguf"
    installed.symlink_to(elsewhere)  # the operator's link in the models folder counts
    for spec in ("local:mine.gguf", f"local:{installed}", "local"):
        response = client.post("/api/v1/tools/vllm/panel-runs", {"model": spec}, **bearer(raw))
        assert response.status_code == 202, (spec, response.json())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer sw_not-a-real-token"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    ],
)
def test_no_valid_token_is_a_401(client, catalog, headers):
    response = client.post("/api/v1/tools/vllm/panel-runs", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthorized"
    assert not PanelRun.objects.exists()


def test_a_logged_in_editor_without_a_token_is_refused(admin_client, catalog):
    assert admin_client.post("/api/v1/tools/vllm/panel-runs").status_code == 401
    assert not PanelRun.objects.exists()


def test_a_token_without_the_scope_is_a_403(client, catalog):
    _, raw = api_token_create(name="submitter", scopes=[Scope.TOOLS_SUBMIT])
    response = client.post("/api/v1/tools/vllm/panel-runs", **bearer(raw))
    assert response.status_code == 403
    assert "panel:run" in response.json()["error"]["message"]
    assert not PanelRun.objects.exists()


def test_revoked_and_expired_tokens_stop_working(admin_client, client, catalog):
    token, raw = api_token_create(name="old", scopes=[Scope.PANEL_RUN])
    assert client.get("/api/v1/panel-runs/1", **bearer(raw)).status_code == 404
    admin_client.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert ApiToken.objects.get(pk=token.pk).is_revoked
    assert client.get("/api/v1/panel-runs/1", **bearer(raw)).status_code == 401
    _, expired = api_token_create(
        name="short", scopes=[Scope.PANEL_RUN], expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get("/api/v1/panel-runs/1", **bearer(expired)).status_code == 401


def test_writes_are_rate_limited_per_token(client, catalog, api_settings):
    api_settings.SHIPWITH_API_WRITE_RATE = "2/m"
    _, raw = api_token_create(name="busy", scopes=[Scope.PANEL_RUN])
    for _ in range(2):
        assert client.post("/api/v1/tools/vllm/panel-runs", **bearer(raw)).status_code == 202
    response = client.post("/api/v1/tools/vllm/panel-runs", **bearer(raw))
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def submit(client, raw: str, **body):
    return client.post("/api/v1/tools", body, **bearer(raw))


def test_a_submitted_tool_becomes_an_ingest_candidate(client, catalog):
    from shipwith.ingest.models import Candidate

    _, raw = api_token_create(name="release bot", scopes=[Scope.TOOLS_SUBMIT])
    response = submit(
        client,
        raw,
        name="Pgai Vectorizer",
        url="https://github.com/timescale/pgai",
        licence="postgresql",
        category="vector-stores",
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "new" and body["tool"] is None
    candidate = Candidate.objects.get(pk=body["candidate"])
    assert candidate.name == "Pgai Vectorizer" and candidate.github_repo == "timescale/pgai"
    assert candidate.submitted_by == "api:release bot"
    # The same tool again is the same candidate, not a second one.
    again = submit(client, raw, name="pgai", url="https://github.com/timescale/pgai/")
    assert again.json()["candidate"] == candidate.pk
    assert Candidate.objects.count() == 1


def test_a_known_tool_is_never_proposed_as_new(client, catalog):
    catalog["vllm"].github_repo = "vllm-project/vllm"
    catalog["vllm"].save()
    _, raw = api_token_create(name="bot", scopes=[Scope.TOOLS_SUBMIT])
    body = submit(client, raw, name="vLLM", url="https://github.com/vllm-project/vllm").json()
    assert body["status"] in ("update", "duplicate") and body["tool"] == "vllm"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"url": "https://example.com"}, "body.name"),
        ({"name": "X", "url": "javascript:alert(1)"}, "body.url"),
        ({"name": "X", "url": "https://x.example", "category": "no-such"}, "body.category"),
        ({"name": "   ", "url": "https://x.example"}, "body.name"),
    ],
)
def test_a_bad_submission_says_what_and_where_and_stores_nothing(client, catalog, body, where):
    from shipwith.ingest.models import Candidate

    _, raw = api_token_create(name="bot", scopes=[Scope.TOOLS_SUBMIT])
    response = client.post("/api/v1/tools", body, **bearer(raw))
    assert response.status_code == 422
    assert [d["where"] for d in response.json()["error"]["details"]] == [where]
    assert not Candidate.objects.exists()


def test_submitting_needs_its_own_scope(client, catalog):
    _, raw = api_token_create(name="runner", scopes=[Scope.PANEL_RUN])
    response = submit(client, raw, name="X", url="https://x.example")
    assert response.status_code == 403
    assert client.get("/api/v1/tools").status_code == 200  # reads stay open on the same path


def test_a_run_tells_why_a_seat_failed(client, catalog):
    from shipwith.panel.runs import panel_run_finish, panel_run_open
    from shipwith.panel.seats import seat_fail

    _, raw = api_token_create(name="ci", scopes=[Scope.PANEL_RUN])
    run = panel_run_open(tool_id=catalog["tgi"].pk)
    seat = run.seats.get(persona__key="skeptic")
    seat_fail(seat_id=seat.pk, reason="the model timed out after 120 s")
    panel_run_finish(run_id=run.pk)
    body = client.get(f"/api/v1/panel-runs/{run.pk}", **bearer(raw)).json()
    assert body["status"] == "failed"
    (failed,) = [s for s in body["seats"] if s["status"] == "failed"]
    assert failed["persona"] == "skeptic" and "timed out" in failed["error"]
    assert "Skeptic" in body["reason"]
