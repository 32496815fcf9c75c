"""Editor endpoints: start a panel run, follow it. Tokens only, so no CSRF is involved."""

from django.db import transaction
from django.http import Http404, HttpRequest
from ninja import Path, Router
from ninja.responses import Status

from shipwith.api import schemas
from shipwith.api.auth import TokenAuth, require_scope
from shipwith.api.models import Scope
from shipwith.api.reads import SLUG, Invalid
from shipwith.panel.llm import LLMError, model_for
from shipwith.panel.models import PanelRun
from shipwith.panel.services import panel_run_enqueue
from shipwith.web import selectors

router = Router(tags=["editors"], auth=TokenAuth())
MAX_ID = 2**63 - 1  # the largest key the databases store

WRITE_ERRORS = {
    400: schemas.Error,
    401: schemas.Error,
    403: schemas.Error,
    404: schemas.Error,
    422: schemas.Error,
    429: schemas.Error,
}


def _run(run: PanelRun) -> dict:
    return {
        "run": run.pk,
        "tool": run.tool.slug,
        "status": run.status,
        "model": run.model_spec,
        "created_at": run.created_at,
    }


def _check_model(spec: str) -> None:
    if spec.split(":", 1)[0].strip().lower() == "local":
        return  # the embedded model loads lazily; building it here would load the weights
    try:
        model_for(spec)
    except LLMError as exc:
        raise Invalid("body.model", str(exc)) from None


@router.post(
    "/tools/{slug}/panel-runs",
    response={202: schemas.PanelRunOut, **WRITE_ERRORS},
    summary="Start a panel run",
)
def panel_run_start(
    request: HttpRequest,
    slug: str = Path(..., max_length=120, pattern=SLUG),
    payload: schemas.PanelRunIn | None = None,
):
    """Queue a review of the tool by every active reviewer (scope `panel:run`).

    An unfinished run of the same tool and model is returned instead of a second one.
    """
    require_scope(request, Scope.PANEL_RUN)
    tool_id = selectors.tool_id(slug)
    if tool_id is None:
        raise Http404(f"No tool {slug!r}.")
    spec = (payload.model or "").strip() if payload else ""
    if spec:
        _check_model(spec)
    with transaction.atomic():
        run = panel_run_enqueue(tool_id=tool_id, model_spec=spec or None)
    run = PanelRun.objects.select_related("tool").get(pk=run.pk)
    return Status(202, _run(run))


@router.get(
    "/panel-runs/{run_id}",
    response={200: schemas.PanelRunOut, **WRITE_ERRORS},
    summary="A panel run's status",
)
def panel_run_status(request: HttpRequest, run_id: int = Path(..., ge=1, le=MAX_ID)):
    """Where a run stands: queued, running, complete, incomplete or failed (scope `panel:run`)."""
    require_scope(request, Scope.PANEL_RUN)
    run = PanelRun.objects.select_related("tool").filter(pk=run_id).first()
    if run is None:
        raise Http404(f"No panel run {run_id}.")
    return _run(run)
