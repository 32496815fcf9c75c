"""Editor endpoints: submit a tool, start a panel run, follow it. Tokens only: no CSRF."""

from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Path, Router
from ninja.responses import Status

from shipwith.api import reads, schemas
from shipwith.api.auth import TokenAuth, require_scope
from shipwith.api.models import ApiToken, Scope
from shipwith.api.reads import SLUG, Invalid
from shipwith.catalog.models import Category
from shipwith.ingest import normalise
from shipwith.ingest.candidates import candidate_submit
from shipwith.ingest.items import Facts, Identifiers, Item
from shipwith.panel.llm import LLMError, model_for
from shipwith.panel.models import PanelRun
from shipwith.panel.tasks import panel_run_enqueue
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


def _run(run_id: int) -> dict:
    run = PanelRun.objects.select_related("tool").filter(pk=run_id).first()
    if run is None:
        raise Http404(f"No panel run {run_id}.")
    seats = run.seats.select_related("persona").order_by("persona__position", "pk")
    return {
        "run": run.pk,
        "tool": run.tool.slug,
        "status": run.status,
        "model": run.model_spec,
        "reason": run.reason,
        "seats": [
            {"persona": seat.persona.key, "status": seat.status, "error": seat.error}
            for seat in seats
        ],
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


def _check_model(spec: str) -> None:
    # The admin's rule (a `local:` file must be an installed model); building loads no weights.
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
    return Status(202, _run(run.pk))


@router.get(
    "/panel-runs/{run_id}",
    response={200: schemas.PanelRunOut, **WRITE_ERRORS},
    summary="A panel run's status",
)
def panel_run_status(request: HttpRequest, run_id: int = Path(..., ge=1, le=MAX_ID)):
    """Where a run stands: queued, running, complete, incomplete or failed (scope `panel:run`)."""
    require_scope(request, Scope.PANEL_RUN)
    return _run(run_id)


def _item(submission: schemas.Submission) -> Item:
    """A submission as one mention of a tool, for ingest's matching like any source's item."""
    url = str(submission.url)
    licence = normalise.licence_spdx(submission.licence) if submission.licence else None
    return Item(
        key=url,
        name=submission.name.strip(),
        vendor=(submission.vendor or "").strip() or None,
        url=url,
        seen_at=timezone.now(),
        identifiers=Identifiers(
            github=normalise.github_repo(url), domain=normalise.homepage_domain(url)
        ),
        facts=Facts(
            description=(submission.description or "").strip() or None,
            homepage=url,
            licence=licence,
            licence_kind=normalise.licence_kind(licence),
        ),
        category_hint=submission.category,
    )


# On the reads' router: one router holds each path, and GET /tools lives there.
@reads.router.post(
    "/tools",
    response={202: schemas.SubmissionOut, **WRITE_ERRORS},
    auth=TokenAuth(),
    tags=["editors"],
    summary="Submit a tool",
)
def tool_submit(request: HttpRequest, payload: schemas.Submission):
    """Propose a tool (scope `tools:submit`): it joins the ingest candidates an editor accepts
    or rejects, matched against the catalog and other sources' mentions like any of them."""
    token: ApiToken = require_scope(request, Scope.TOOLS_SUBMIT)
    if payload.category and not Category.objects.filter(slug=payload.category).exists():
        raise Invalid("body.category", f"No category {payload.category!r}: see /api/v1/categories.")
    candidate = candidate_submit(item=_item(payload), submitted_by=f"api:{token.name}")
    return Status(
        202,
        {
            "candidate": candidate.pk,
            "status": candidate.status,
            "tool": candidate.tool.slug if candidate.tool_id else None,
        },
    )
