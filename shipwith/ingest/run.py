"""A run: every enabled source's listing read through its adapter, each item stored in its own
transaction; one bad item or one bad source never stops the others.

A source's first successful run is its baseline: what it lists then is its back catalog, kept
as `backlog` candidates an editor may accept in bulk, so only what it lists later is new (the
first read of OpenRouter proposes no 300 new tools and queues no 1,200 reviews). Known tools
are matched all the same, and their changes proposed as updates. A baseline publishes
nothing, even from an autopublishing source.
"""

import logging
from collections.abc import Callable, Iterable

from django.db import DatabaseError, transaction
from django.utils import timezone

from shipwith.ingest import selectors
from shipwith.ingest.candidates import RunIndex, item_store
from shipwith.ingest.decisions import candidate_accept
from shipwith.ingest.errors import ERROR_CHARS, IngestError
from shipwith.ingest.fetch import Fetcher, FetchError
from shipwith.ingest.items import Item, ItemProblem
from shipwith.ingest.models import NEVER_AUTOPUBLISH, Candidate, IngestSource, Status
from shipwith.ingest.sources import (
    SourceReport,
    source_baseline_due,
    source_health_store,
    source_lease,
)
from shipwith.ingest.validators import ValidatorStore

logger = logging.getLogger(__name__)

PROBLEM_CHARS, KEY_CHARS = 1000, 200

# What an item ingest cannot take raises: reported with its message alone. Anything else is a
# bug the item tripped, reported with its type and logged with its traceback.
ITEM_ERRORS = (IngestError, ValueError, DatabaseError)


def items_ingest(
    *,
    source: IngestSource,
    items: Iterable[Item | ItemProblem],
    run: RunIndex | None = None,
    tick: Callable[[], None] = lambda: None,
    baseline: bool = False,
) -> SourceReport:
    """Store what a source listed: each item in its own transaction, so a bad item is
    reported (naming the source and the item) and the others are kept.

    Whatever one item raises while it is matched, stored or published stays with it; only the
    listing itself failing (`items` raising) fails the source. In a `baseline`, what matches
    nothing is backlog, not new, and nothing is published.
    """
    run = run or RunIndex()
    report = SourceReport(source.name, baseline=baseline)
    now = timezone.now()
    unknown_as = None if source.updates_only else Status.BACKLOG if baseline else Status.NEW
    for entry in items:
        tick()
        report.items += 1
        if isinstance(entry, ItemProblem):
            _problem(report, source, entry.key, entry.message)
            continue
        try:
            with transaction.atomic():
                outcome, candidate = item_store(
                    entry,
                    source=source,
                    source_name=source.name,
                    run=run,
                    now=now,
                    unknown_as=unknown_as,
                )
                if candidate is not None and candidate.status == Status.BACKLOG:
                    outcome = "backlog" if outcome == "created" else outcome
                if not baseline and candidate is not None and _publishable(source, candidate):
                    candidate_accept(candidate_id=candidate.pk, decided_by=source.name)
                    report.accepted += 1
        except ITEM_ERRORS as exc:
            _problem(report, source, entry.key, str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - a bug one item trips never stops the others
            _problem(report, source, entry.key, f"{type(exc).__name__}: {exc}", exc_info=True)
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _problem(
    report: SourceReport, source: IngestSource, key: str, message: str, *, exc_info: bool = False
) -> None:
    # Clipped: a hostile key or value must not flood the report, the log or the source row.
    problem = f"source '{source.name}', item '{key[:KEY_CHARS]}': {message}"[:PROBLEM_CHARS]
    report.problems.append(problem)
    logger.warning("%s", problem, exc_info=exc_info)


def _publishable(source: IngestSource, candidate: Candidate) -> bool:
    if not source.autopublish or source.kind in NEVER_AUTOPUBLISH:
        return False
    if candidate.status == Status.UPDATE:
        return True
    return candidate.status == Status.NEW and candidate.category_id is not None


def _source_run(source: IngestSource, run: RunIndex, tick: Callable[[], None]) -> SourceReport:
    if not source_lease(source_id=source.pk):
        return SourceReport(
            source.name, error=f"source '{source.name}': another process is running it"
        )
    from shipwith.ingest import adapters  # lazy: 0.3 s of parsers most web processes never need

    baseline = source_baseline_due(source_id=source.pk)
    # A baseline reads the whole listing: a 304 about what another row stored would leave its
    # back catalog empty, and everything listed after it would look new.
    store = ValidatorStore(conditional=not baseline)
    try:
        with Fetcher(validators=store) as fetcher:
            adapter = adapters.adapter_for(source.kind)(
                url=source.url, options=source.options, fetcher=fetcher
            )
            report = items_ingest(
                source=source, items=adapter.items(), run=run, tick=tick, baseline=baseline
            )
    except Exception as exc:  # noqa: BLE001 - one bad source never stops the others
        store.discard()
        report = SourceReport(source.name)
        report.error = f"source '{source.name}': {type(exc).__name__}: {exc}"[:ERROR_CHARS]
        report.unreachable = isinstance(exc, FetchError) and exc.unreachable
    source_health_store(source_id=source.pk, report=report, store=store)
    return report


def source_run(*, source_id: int) -> SourceReport | None:
    """Read one source, as the worker's polling does; None when it is gone or disabled."""
    source = (
        IngestSource.objects.select_related("category_hint")
        .filter(pk=source_id, enabled=True)
        .first()
    )
    return _source_run(source, RunIndex(), lambda: None) if source else None


def ingest_run(
    *, names: Iterable[str] = (), tick: Callable[[], None] = lambda: None
) -> list[SourceReport]:
    """Read every enabled source (or the named ones) into candidates; one bad source never
    stops the others, and each one's health is stored on its row."""
    sources = selectors.sources_to_run(list(names))
    run = RunIndex()
    return [_source_run(source, run, tick) for source in sources]
