"""Sources: adding one, and what a run keeps on its row (the lease it holds, the health it
leaves: last run, last success, last error, items seen, failures in a row)."""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from shipwith.catalog.models import Category
from shipwith.ingest.errors import ERROR_CHARS, IngestError
from shipwith.ingest.models import NEVER_AUTOPUBLISH, IngestSource, Kind
from shipwith.ingest.validators import ValidatorStore

logger = logging.getLogger(__name__)

# A source's run holds a lease this long; a crashed run's lease lapses on its own.
RUN_LEASE = dt.timedelta(hours=1)


def source_add(
    *,
    name: str,
    kind: str,
    url: str = "",
    options: dict | None = None,
    category_slug: str | None = None,
    autopublish: bool = False,
    enabled: bool = True,
) -> IngestSource:
    """Add a source; refuse an unknown kind or category, and autopublish for Hacker News."""
    if kind not in Kind.values:
        raise IngestError(f"unknown kind {kind!r}: expected one of {', '.join(Kind.values)}")
    if autopublish and kind in NEVER_AUTOPUBLISH:
        raise IngestError(f"source '{name}': {kind} sources never autopublish; an editor decides")
    if options is not None and not isinstance(options, dict):
        raise IngestError(f"source '{name}': options must be a mapping of key to value")
    category = None
    if category_slug:
        category = Category.objects.filter(slug=category_slug).first()
        if category is None:
            raise IngestError(f"source '{name}': unknown category '{category_slug}'")
    from shipwith.ingest import adapters  # lazy: 0.3 s of parsers most web processes never need

    try:  # the adapter checks its options and URL when it is made; nothing is fetched
        adapters.adapter_for(kind)(url=url, options=options or {}, fetcher=None)
    except adapters.SourceFormatError as exc:
        raise IngestError(f"source '{name}': {exc}") from None
    if IngestSource.objects.filter(name=name).exists():
        raise IngestError(f"a source named '{name}' already exists")
    source = IngestSource(
        name=name,
        kind=kind,
        url=url,
        options=options or {},
        category_hint=category,
        autopublish=autopublish,
        enabled=enabled,
    )
    try:
        source.full_clean()
    except ValidationError as exc:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise IngestError(f"source '{name}': {details}") from None
    source.save()
    return source


@dataclass
class SourceReport:
    name: str
    items: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    accepted: int = 0
    problems: list[str] = field(default_factory=list)
    error: str = ""
    failures_in_row: int = 0

    def __str__(self) -> str:
        if self.error:
            return f"{self.name}: FAILED ({self.failures_in_row} in a row): {self.error}"
        text = (
            f"{self.name}: {self.items} items, {self.created} new candidates, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
        if self.accepted:
            text += f", {self.accepted} published"
        if self.problems:
            text += f", {len(self.problems)} items skipped"
        return text


def source_lease(*, source_id: int) -> bool:
    """Take the source for this run; False if another process is running it.

    Dated and judged in database time, the same for every host: no process's clock decides
    whose source it is (as with the panel's seats and the newsletter's deliveries).
    """
    free = Q(running=False) | Q(last_run_at__isnull=True) | Q(last_run_at__lt=Now() - RUN_LEASE)
    return bool(
        IngestSource.objects.filter(free, pk=source_id).update(running=True, last_run_at=Now())
    )


def source_health_store(*, source_id: int, report: SourceReport, store: ValidatorStore) -> None:
    """End the run's lease and keep its health on the row; keep the listing's validators
    only when every item was stored. Sets `report.failures_in_row`."""
    now = timezone.now()
    rows = IngestSource.objects.filter(pk=source_id)
    if report.error:
        rows.update(
            running=False,
            last_error=report.error,
            last_error_at=now,
            failures_in_row=F("failures_in_row") + 1,
        )
    else:
        with transaction.atomic():
            if report.problems:
                # Read the whole listing again next time: the skipped items get another chance.
                store.discard()
                rows.update(last_error="\n".join(report.problems)[:ERROR_CHARS], last_error_at=now)
            store.save()
            rows.update(
                running=False, last_success_at=now, failures_in_row=0, items_seen=report.items
            )
    report.failures_in_row = rows.values_list("failures_in_row", flat=True).first() or 0
    if report.error:
        # Seen in the worker's log too: a failing source is never skipped in silence.
        logger.warning("%s (%d runs in a row)", report.error, report.failures_in_row)
