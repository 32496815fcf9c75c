"""A run: every enabled source's listing read through its adapter, each item stored in its own
transaction; one bad item or one bad source never stops the others."""

import logging
from collections.abc import Callable, Iterable

from django.db import DatabaseError, transaction
from django.utils import timezone

from shipwith.ingest import selectors
from shipwith.ingest.candidates import RunIndex, item_store
from shipwith.ingest.decisions import candidate_accept
from shipwith.ingest.errors import ERROR_CHARS, IngestError
from shipwith.ingest.fetch import Fetcher
from shipwith.ingest.items import Item, ItemProblem
from shipwith.ingest.models import NEVER_AUTOPUBLISH, Candidate, IngestSource, Status
from shipwith.ingest.sources import SourceReport, source_health_store, source_lease
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
) -> SourceReport:
    """Store what a source listed: each item in its own transaction, so a bad item is
    reported (naming the source and the item) and the others are kept.

    Whatever one item raises while it is matched, stored or published stays with it; only the
    listing itself failing (`items` raising) fails the source.
    """
    run = run or RunIndex()
    report = SourceReport(source.name)
    now = timezone.now()
    for entry in items:
        tick()
        report.items += 1
        if isinstance(entry, ItemProblem):
            _problem(report, source, entry.key, entry.message)
            continue
        try:
            with transaction.atomic():
                outcome, candidate = item_store(
                    entry, source=source, source_name=source.name, run=run, now=now
                )
                if _publishable(source, candidate):
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

    store = ValidatorStore()
    try:
        with Fetcher(validators=store) as fetcher:
            adapter = adapters.adapter_for(source.kind)(
                url=source.url, options=source.options, fetcher=fetcher
            )
            report = items_ingest(source=source, items=adapter.items(), run=run, tick=tick)
    except Exception as exc:  # noqa: BLE001 - one bad source never stops the others
        store.discard()
        report = SourceReport(source.name)
        report.error = f"source '{source.name}': {type(exc).__name__}: {exc}"[:ERROR_CHARS]
    source_health_store(source_id=source.pk, report=report, store=store)
    return report


def ingest_run(
    *, names: Iterable[str] = (), tick: Callable[[], None] = lambda: None
) -> list[SourceReport]:
    """Read every enabled source (or the named ones) into candidates; one bad source never
    stops the others, and each one's health is stored on its row."""
    sources = selectors.sources_to_run(list(names))
    run = RunIndex()
    return [_source_run(source, run, tick) for source in sources]
