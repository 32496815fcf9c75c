"""One seat of a panel run: claimed by one worker at a time, then settled as a stored
review, a failure or a recusal.

A claim is a lease in database time (core/leases.py): SHIPWITH_PANEL_SEAT_LEASE seconds,
renewed while the worker waits on the model, so a killed worker's seats are free again
within one lease and no host's clock decides whose seat it is.
"""

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.catalog.selectors import FactRow
from shipwith.core.freshness import tools_touch
from shipwith.core.leases import lease_end, lease_free
from shipwith.panel import prompts
from shipwith.panel.grounding import figures_checked, quotes_locate
from shipwith.panel.llm import Completion
from shipwith.panel.models import Review, Seat, SeatStatus
from shipwith.panel.schema import ReviewOutput


def seats_claim(*, seat_ids: Iterable[int]) -> set[int]:
    """Claim the pending seats no live worker holds; return the ids this caller now holds.

    A claim lasts SHIPWITH_PANEL_SEAT_LEASE seconds and is renewed while its worker waits on
    the model, so a killed worker's seats are free again within one lease.
    """
    free, lease = lease_free("claimed_until"), settings.SHIPWITH_PANEL_SEAT_LEASE
    claimed = set()
    for seat_id in seat_ids:  # one conditional update each: the database decides who wins
        if Seat.objects.filter(free, pk=seat_id, status=SeatStatus.PENDING).update(
            claimed_until=lease_end(lease)
        ):
            claimed.add(seat_id)
    return claimed


def seats_claim_renew(*, seat_ids: Iterable[int]) -> None:
    """Extend this worker's claim on the seats it is still asking."""
    Seat.objects.filter(pk__in=list(seat_ids), status=SeatStatus.PENDING).update(
        claimed_until=lease_end(settings.SHIPWITH_PANEL_SEAT_LEASE)
    )


def seats_release(*, seat_ids: Iterable[int]) -> None:
    """Give back the claim on seats this worker will not ask after all."""
    Seat.objects.filter(pk__in=list(seat_ids), status=SeatStatus.PENDING).update(claimed_until=None)


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
    facts: Sequence[FactRow] = (),
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
    flags += figures_checked(output, facts).flags
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
