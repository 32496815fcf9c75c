"""Panel runs: open one per tool and model, fill its seats, record how it ended.

`panel_run_execute` claims each pending seat (seats.py), asks the seats' models at once
(remote) or in turn (embedded) through `runner`, and stores each outcome as it arrives; a
failed or recused seat is recorded and the run goes on. `panel_run_reopen` gives failed (and
recused) seats another try; a seat that answered is never asked again.
"""

import datetime
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.core.freshness import tools_touch
from shipwith.core.leases import lease_held
from shipwith.panel import runner
from shipwith.panel.asking import ReviewRequest, review_ask, review_request
from shipwith.panel.llm import LLMError, Model, default_model_spec
from shipwith.panel.models import PanelRun, Persona, RunStatus, Seat, SeatStatus
from shipwith.panel.recusal import ModelChoice, model_choose
from shipwith.panel.seats import (
    review_store,
    seat_fail,
    seat_recuse,
    seats_claim,
    seats_claim_renew,
    seats_release,
)

UNFINISHED = (RunStatus.QUEUED, RunStatus.RUNNING)

SeatCallback = Callable[[Seat], None]
logger = logging.getLogger(__name__)


def panel_run_open(*, tool_id: int, model_spec: str | None = None) -> PanelRun:
    """Return the tool's unfinished run for this model (a retry resumes it) or open one."""
    spec = model_spec or ""
    with transaction.atomic():
        tool = Tool.objects.select_for_update().get(pk=tool_id)
        run = PanelRun.objects.filter(tool=tool, model_spec=spec, status__in=UNFINISHED).first()
        if run is None:
            run = PanelRun.objects.create(tool=tool, model_spec=spec)
            personas = Persona.objects.filter(active=True)
            Seat.objects.bulk_create([Seat(run=run, persona=persona) for persona in personas])
    return run


def panel_run(
    *, tool_id: int, model_spec: str | None = None, on_seat: SeatCallback | None = None
) -> PanelRun:
    """Review a tool with every active persona now; return the finished run."""
    run = panel_run_open(tool_id=tool_id, model_spec=model_spec)
    return panel_run_execute(run_id=run.pk, on_seat=on_seat)


def panel_run_reopen(*, run_id: int, retry_limit: int | None = None) -> list[int]:
    """Put a run's failed seats (and recused ones, for a now-usable alternate) back to pending.

    A seat that answered is never asked again. With `retry_limit`, only failed seats tried
    fewer times than that, whose backoff has passed, are reopened. Return the reopened seat ids.
    """
    with transaction.atomic():
        run = PanelRun.objects.select_for_update().get(pk=run_id)
        if retry_limit is None:
            due = Q(status=SeatStatus.FAILED) | Q(status=SeatStatus.RECUSED)
        else:
            waited = Q(retry_after__isnull=True) | Q(retry_after__lte=timezone.now())
            due = Q(status=SeatStatus.FAILED, attempts__lt=retry_limit) & waited
        seats = list(run.seats.filter(due).values_list("pk", flat=True))
        if seats:
            Seat.objects.filter(pk__in=seats).update(
                status=SeatStatus.PENDING,
                retry_after=None,
                claimed_until=None,
                updated_at=timezone.now(),
            )
            run.status = RunStatus.QUEUED
            run.save(update_fields=["status"])
    return seats


def seats_retry_schedule(*, run_id: int) -> datetime.datetime | None:
    """Set when the worker next tries the run's failed seats: backoff doubling per attempt."""
    limit = settings.SHIPWITH_PANEL_SEAT_RETRIES
    backoff = settings.SHIPWITH_PANEL_SEAT_BACKOFF
    now = timezone.now()
    soonest = None
    for seat in Seat.objects.filter(run_id=run_id, status=SeatStatus.FAILED, attempts__lt=limit):
        when = now + datetime.timedelta(seconds=backoff * 2 ** max(seat.attempts - 1, 0))
        Seat.objects.filter(pk=seat.pk).update(retry_after=when)
        soonest = when if soonest is None else min(soonest, when)
    return soonest


def panel_run_execute(*, run_id: int, on_seat: SeatCallback | None = None) -> PanelRun:
    """Fill every pending seat of a run, storing each review as it arrives; idempotent.

    Each seat is claimed first, so two workers executing one run never ask one seat twice.
    """
    PanelRun.objects.filter(pk=run_id).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), reason=""
    )
    run = PanelRun.objects.select_related("tool__vendor", "tool__category").get(pk=run_id)
    seats = list(run.seats.select_related("persona").order_by("persona__position", "pk"))
    claimed = seats_claim(seat_ids=[seat.pk for seat in seats if seat.status == SeatStatus.PENDING])
    try:
        runnable, models = [], {}
        for seat in seats:
            if seat.pk not in claimed:
                continue
            plan = _plan(run, seat, models)
            if plan is not None:
                runnable.append(plan)
            elif on_seat:
                on_seat(Seat.objects.get(pk=seat.pk))  # settled without a model call
        if runnable:
            request = review_request(
                run.tool,
                personas=[plan.seat.persona for plan in runnable],
                models=[plan.model for plan in runnable],
            )
            _fill_seats(runnable, request, on_seat)
    except BaseException:  # Ctrl-C or a crash: the next run may take these seats at once
        try:
            seats_release(seat_ids=claimed)
        except DatabaseError:  # their claims run out by themselves
            logger.exception("run %s: could not give its seats back", run_id)
        raise
    return panel_run_finish(run_id=run.pk)


def panel_run_finish(*, run_id: int) -> PanelRun:
    """Record the run's outcome from its seats: complete, incomplete or failed.

    While another worker still holds one of its seats, the run stays running: that worker
    finishes it.
    """
    with transaction.atomic():
        run = PanelRun.objects.select_for_update().get(pk=run_id)
        if run.seats.filter(lease_held("claimed_until"), status=SeatStatus.PENDING).exists():
            return run
        seats = list(run.seats.select_related("persona"))
        done = [seat for seat in seats if seat.status == SeatStatus.DONE]
        missing = [seat for seat in seats if seat.status != SeatStatus.DONE]
        if seats and not missing:
            run.status = RunStatus.COMPLETE
        elif done:
            run.status = RunStatus.INCOMPLETE
        else:
            run.status = RunStatus.FAILED
        run.reason = "; ".join(
            f"{seat.persona.name}: {seat.get_status_display().lower()}"
            + (f" ({seat.error})" if seat.error else "")
            for seat in missing
        ) or ("" if seats else "no active personas")
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "reason", "finished_at"])
    if done:
        tools_touch(run.tool_id)
    return run


@dataclass
class _SeatPlan:
    seat: Seat
    model: Model
    alternate_for: str = ""


def _plan(run: PanelRun, seat: Seat, models: dict) -> _SeatPlan | None:
    """Pick the seat's model; settle the seat at once when it cannot or must not run."""
    spec = run.model_spec or seat.persona.model_spec or default_model_spec()
    vendor = run.tool.vendor
    try:
        choice: ModelChoice = model_choose(
            spec=spec,
            alternate=seat.persona.alternate_spec,
            vendors={vendor.slug: vendor.name} if vendor else {},
            models=models,
        )
    except LLMError as exc:
        seat_fail(seat_id=seat.pk, reason=str(exc), model_spec=spec)
        return None
    if choice.model is None:
        seat_recuse(seat_id=seat.pk, model_spec=spec, reason=choice.recused)
        return None
    seat.model_spec = choice.spec
    return _SeatPlan(seat=seat, model=choice.model, alternate_for=choice.alternate_for)


def _fill_seats(plans: list[_SeatPlan], request: ReviewRequest, on_seat) -> None:
    """Ask every seat's model; store each outcome in this thread as soon as it arrives."""

    def call(plan: _SeatPlan) -> runner.Call:
        prompt = request.prompt(plan.seat.persona)
        return plan, functools.partial(review_ask, plan.model, request, prompt)

    waiting = {plan.seat.pk for plan in plans}
    # Remote models take the personas at once; the embedded one takes them in turn.
    outcomes = runner.as_completed(
        parallel=[call(plan) for plan in plans if plan.model.concurrent],
        in_turn=[call(plan) for plan in plans if not plan.model.concurrent],
        on_wait=lambda: seats_claim_renew(seat_ids=waiting),
        wait=settings.SHIPWITH_PANEL_SEAT_LEASE / 4,
    )
    for plan, outcome in outcomes:
        _settle(plan, outcome, request)
        waiting.discard(plan.seat.pk)
        if on_seat:
            on_seat(Seat.objects.get(pk=plan.seat.pk))


def _settle(plan: _SeatPlan, outcome, request: ReviewRequest) -> None:
    seat = plan.seat
    if isinstance(outcome, LLMError):
        seat_fail(seat_id=seat.pk, reason=str(outcome), model_spec=seat.model_spec, raw=outcome.raw)
        return
    if isinstance(outcome, BaseException):  # a fault ends in a recorded state, never a gap
        reason = f"unexpected error: {outcome!r}"
        seat_fail(seat_id=seat.pk, reason=reason, model_spec=seat.model_spec)
        return
    completion, output = outcome
    try:
        review_store(
            seat_id=seat.pk,
            output=output,
            completion=completion,
            sources=request.sources,
            facts=request.facts,
            model_spec=seat.model_spec,
            alternate_for=plan.alternate_for,
        )
    except DatabaseError as exc:  # e.g. "database is locked": this seat fails, the run goes on
        reason = f"database error while storing the review: {exc}"
        try:
            seat_fail(
                seat_id=seat.pk, reason=reason, model_spec=seat.model_spec, raw=completion.text
            )
        except DatabaseError:
            logger.exception("seat %s: could not record the failure either", seat.pk)
