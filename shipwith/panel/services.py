"""Writes of the panel: persona edits, panel runs, seats and versioned reviews."""

import datetime
import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Expression, F, Q
from django.db.models.functions import Now
from django.utils import timezone
from pydantic import ValidationError

from shipwith.catalog.models import Tool
from shipwith.core.freshness import site_touch, tools_touch
from shipwith.panel import prompts, runner
from shipwith.panel.grounding import quotes_locate, source_texts
from shipwith.panel.llm import Completion, LLMError, Model, default_model_spec
from shipwith.panel.models import (
    PanelRun,
    Persona,
    Review,
    RunStatus,
    Seat,
    SeatStatus,
)
from shipwith.panel.recusal import ModelChoice, model_choose
from shipwith.panel.schema import ReviewOutput, review_json_schema

# Fields whose change alters what the model is told, so reviews must name a new version.
PROMPT_FIELDS = frozenset({"name", "lens", "priorities", "deal_breakers", "voice"})
# Room for the longest answer the schema allows; the embedded grammar bounds it anyway.
MAX_TOKENS = 900
UNFINISHED = (RunStatus.QUEUED, RunStatus.RUNNING)

SeatCallback = Callable[[Seat], None]
logger = logging.getLogger(__name__)


def persona_save(*, persona: Persona, changed_fields: Iterable[str]) -> Persona:
    """Save an editor's change; a change to the prompt text bumps the prompt version."""
    if persona.pk and PROMPT_FIELDS & set(changed_fields):
        persona.prompt_version = F("prompt_version") + 1
    persona.save()
    persona.refresh_from_db(fields=["prompt_version"])
    # Every take names its persona and the methodology page lists them: all pages change.
    transaction.on_commit(site_touch)
    return persona


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


def panel_run_enqueue(*, tool_id: int, model_spec: str | None = None) -> PanelRun:
    """Open a run and hand it to the task worker once the transaction commits."""
    from shipwith.panel.tasks import panel_run_task

    run = panel_run_open(tool_id=tool_id, model_spec=model_spec)
    transaction.on_commit(lambda: panel_run_task.enqueue(run.pk))
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
            _fill_seats(runnable, review_request(run.tool), on_seat)
    except BaseException:  # Ctrl-C or a crash: the next run may take these seats at once
        try:
            seats_release(seat_ids=claimed)
        except DatabaseError:  # their claims run out by themselves
            logger.exception("run %s: could not give its seats back", run_id)
        raise
    return panel_run_finish(run_id=run.pk)


def _lease_end() -> Expression:
    # Database time, the same for every host: no worker's clock decides whose seat it is.
    return Now() + datetime.timedelta(seconds=settings.SHIPWITH_PANEL_SEAT_LEASE)


def seats_claim(*, seat_ids: Iterable[int]) -> set[int]:
    """Claim the pending seats no live worker holds; return the ids this caller now holds.

    A claim lasts SHIPWITH_PANEL_SEAT_LEASE seconds and is renewed while its worker waits on
    the model, so a killed worker's seats are free again within one lease.
    """
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=Now())
    claimed = set()
    for seat_id in seat_ids:  # one conditional update each: the database decides who wins
        if Seat.objects.filter(free, pk=seat_id, status=SeatStatus.PENDING).update(
            claimed_until=_lease_end()
        ):
            claimed.add(seat_id)
    return claimed


def seats_claim_renew(*, seat_ids: Iterable[int]) -> None:
    """Extend this worker's claim on the seats it is still asking."""
    Seat.objects.filter(pk__in=list(seat_ids), status=SeatStatus.PENDING).update(
        claimed_until=_lease_end()
    )


def seats_release(*, seat_ids: Iterable[int]) -> None:
    """Give back the claim on seats this worker will not ask after all."""
    Seat.objects.filter(pk__in=list(seat_ids), status=SeatStatus.PENDING).update(claimed_until=None)


def panel_run_finish(*, run_id: int) -> PanelRun:
    """Record the run's outcome from its seats: complete, incomplete or failed.

    While another worker still holds one of its seats, the run stays running: that worker
    finishes it.
    """
    with transaction.atomic():
        run = PanelRun.objects.select_for_update().get(pk=run_id)
        if run.seats.filter(status=SeatStatus.PENDING, claimed_until__gt=Now()).exists():
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


@dataclass
class ReviewRequest:
    system: str
    prefix: str
    sources: list[tuple[int | None, str]]
    tool_name: str
    schema: dict


def review_request(tool: Tool) -> ReviewRequest:
    sources = source_texts(tool)
    material = "\n".join(text for _, text in sources)
    return ReviewRequest(
        system=prompts.system_prompt(),
        prefix=prompts.shared_prefix(material=material, fence=prompts.Fence.random()),
        sources=sources,
        tool_name=tool.name,
        schema=review_json_schema(),
    )


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
        card = prompts.persona_card(plan.seat.persona, tool_name=request.tool_name)
        return plan, functools.partial(review_ask, plan.model, request, request.prefix + card)

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


async def review_ask(
    model: Model, request: ReviewRequest, prompt: str
) -> tuple[Completion, ReviewOutput]:
    """Ask for a review; a schema-valid answer that breaks our rules gets one repair."""
    completion = await model.complete(
        system=request.system, prompt=prompt, schema=request.schema, max_tokens=MAX_TOKENS
    )
    try:
        return completion, ReviewOutput.model_validate(completion.data)
    except ValidationError as exc:
        problem = _first_problem(exc)
    repair = f"{prompt}\n\nYour previous answer:\n{completion.text}\n\n" + prompts.repair_prompt(
        problem
    )
    second = await model.complete(
        system=request.system, prompt=repair, schema=request.schema, max_tokens=MAX_TOKENS
    )
    try:
        output = ReviewOutput.model_validate(second.data)
    except ValidationError as exc:
        raise LLMError(
            f"invalid review after one repair: {_first_problem(exc)}",
            raw=f"{completion.text}\n--- repair ---\n{second.text}",
        ) from exc
    second.text = f"{completion.text}\n--- repair ---\n{second.text}"  # keep both as raw output
    second.repairs += completion.repairs + 1
    second.tokens_in += completion.tokens_in
    second.tokens_out += completion.tokens_out
    second.latency_ms += completion.latency_ms
    return second, output


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "answer"
    return f"{where}: {error['msg']}"


def seat_fail(*, seat_id: int, reason: str, model_spec: str = "", raw: str = "") -> None:
    """Record why a persona produced no review in this run."""
    Seat.objects.filter(pk=seat_id, status=SeatStatus.PENDING).update(
        status=SeatStatus.FAILED,
        error=reason[:2000],
        model_spec=model_spec,
        raw_output=raw,
        attempts=F("attempts") + 1,
        claimed_until=None,
        updated_at=timezone.now(),
    )


def seat_recuse(*, seat_id: int, model_spec: str, reason: str) -> None:
    """A model never reviews its own vendor's tool; with no usable alternate the seat waits."""
    Seat.objects.filter(pk=seat_id, status=SeatStatus.PENDING).update(
        status=SeatStatus.RECUSED,
        error=reason,
        model_spec=model_spec,
        claimed_until=None,
        updated_at=timezone.now(),
    )


@transaction.atomic
def review_store(
    *,
    seat_id: int,
    output: ReviewOutput,
    completion: Completion,
    sources: list[tuple[int | None, str]],
    model_spec: str = "",
    alternate_for: str = "",
) -> Review:
    """Store a seat's review as the persona's new current version; a repeat is a no-op."""
    # Two first reviews of one tool at once would both see no history and both take version 1:
    # the tool's row lock makes them take turns (SQLite's IMMEDIATE transactions already do).
    # Tool first, then only the seat's own row: the order panel_run_open locks in, so two
    # writers never wait on each other in a cycle.
    tool_id = Seat.objects.filter(pk=seat_id).values_list("run__tool_id", flat=True).get()
    list(Tool.objects.select_for_update().filter(pk=tool_id).values_list("pk", flat=True))
    seat = (
        Seat.objects.select_for_update(of=("self",))
        .select_related("run", "persona")
        .get(pk=seat_id)
    )
    if seat.status == SeatStatus.DONE:
        return Review.objects.get(seat=seat)
    persona = seat.persona
    # Versions only grow and the newest is the current one: one row tells us both.
    history = Review.objects.filter(tool_id=tool_id, persona=persona).order_by()
    latest = history.order_by("-version").first()  # under the tool's lock
    version = latest.version + 1 if latest else 1
    previous = latest if latest and latest.is_current else None
    if previous is not None:
        history.filter(pk=previous.pk).update(is_current=False)
    found, dropped = quotes_locate(output.evidence_quotes, sources)
    flags = []
    if dropped:
        flags.append(f"{len(dropped)} evidence quote(s) not found in the tool's sources, dropped")
    review = Review.objects.create(
        tool_id=tool_id,
        persona=persona,
        run=seat.run,
        seat=seat,
        version=version,
        is_current=True,
        verdict=output.verdict,
        take=output.take,
        confidence=output.confidence,
        competitors=output.competitors,
        key_risk=output.key_risk,
        claim_to_pressure=output.claim_to_pressure,
        evidence_quotes=[quote for quote, _ in found],
        evidence_sources=[source_id for _, source_id in found],
        dropped_quotes=dropped,
        flags=flags,
        previous_verdict=previous.verdict if previous else "",
        prompt_version=persona.prompt_version,
        prompt_layout=prompts.LAYOUT,
        model_id=completion.model_id,
        provider=completion.provider,
        alternate_for=alternate_for,
        tokens_in=completion.tokens_in,
        tokens_out=completion.tokens_out,
        latency_ms=completion.latency_ms,
        raw_output=completion.text,
    )
    seat.status = SeatStatus.DONE
    seat.error = ""
    seat.attempts += 1
    seat.model_spec = model_spec or seat.model_spec
    seat.claimed_until = None
    seat.save(
        update_fields=["status", "error", "attempts", "model_spec", "claimed_until", "updated_at"]
    )
    transaction.on_commit(lambda: tools_touch(tool_id))  # pages show the new take at once
    return review
