"""Sources: adding one, when each is read (its interval on a grid of its own, the polling's
claim on it, the backoff of a failing one), and what a run keeps on its row (the lease it
holds, the health it leaves: last run, last success, last error, items seen, failures in a row,
whether the host was reachable, the baseline of its first run).

Every time a run or the polling compares or writes for `next_run_at` is the database's
(`Now()`, or the run's start that its lease dated with it), as with the run's lease: hosts
whose clocks disagree still agree on what is due.
"""

import datetime as dt
import logging
import random
import re
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

# A source's run holds a lease this long; a crashed run's lease lapses on its own. The polling
# claims a due source for as long: a queued run that never starts frees it again.
RUN_LEASE = dt.timedelta(hours=1)
# A failing source waits before its next try: from the shorter of its interval and RETRY_FIRST,
# doubling with each failure in a row, up to the longer of its interval and RETRY_MAX. Offline
# for a morning, a 15-minute source is tried 15, 30, 60… minutes apart, not 96 times a day.
RETRY_FIRST = dt.timedelta(minutes=15)
RETRY_MAX = dt.timedelta(hours=6)
# A failing source's next try moves later by up to this share of its backoff, so sources that
# failed together (offline) do not all try again at once.
JITTER = 0.1
# A working source is read on a grid of its own, `phase + k × interval` from the epoch, its
# phase this share of the interval times its id, modulo one: the golden ratio's fraction puts
# sources added together (the defaults, on the first `up`) far apart across the interval, and
# they stay apart, while each read comes exactly one interval after the one before was due.
# (A jitter added to every wait spread them too, but put up to a tenth of an interval more
# between an item appearing and its source's next read.)
PHASE_STEP = 0.6180339887498949

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MS = dt.timedelta(milliseconds=1)
INTERVAL_TEXT = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def interval_parse(text: str) -> dt.timedelta:
    """ "30s", "15m", "1h", "1d" as a timedelta; IngestError for anything else."""
    found = INTERVAL_TEXT.match(str(text))
    if not found:
        raise IngestError(f"interval {text!r} is not a duration like 30s, 15m, 1h or 1d")
    return dt.timedelta(**{UNITS[found[2]]: int(found[1])})


def source_add(
    *,
    name: str,
    kind: str,
    url: str = "",
    options: dict | None = None,
    category_slug: str | None = None,
    autopublish: bool = False,
    enabled: bool = True,
    updates_only: bool = False,
    interval: dt.timedelta | None = None,
    baseline: bool = True,
) -> IngestSource:
    """Add a source, to be read at once; refuse an unknown kind or category, and autopublish
    for Hacker News.

    Its first successful run is a baseline: what it lists then is the back catalog (backlog).
    With `baseline=False` everything it lists is new (a curated feed of launches).
    """
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
        updates_only=updates_only,
        interval=interval,
        # No baseline to take: the back catalog is empty, everything it lists is new.
        baseline_at=None if baseline else timezone.now(),
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
    backlog: int = 0  # new candidates its baseline recorded as the back catalog
    ignored: int = 0  # items of an updates-only source that name no catalog tool
    baseline: bool = False  # the source's first successful run, if it succeeds
    problems: list[str] = field(default_factory=list)
    error: str = ""
    unreachable: bool = False  # the error: the host was never reached
    failures_in_row: int = 0

    def __str__(self) -> str:
        if self.error:
            return f"{self.name}: FAILED ({self.failures_in_row} in a row): {self.error}"
        text = (
            f"{self.name}: {self.items} items, {self.created} new candidates, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
        if self.baseline:
            text += f", {self.backlog} to the back catalog (first run: backlog)"
        if self.ignored:
            text += f", {self.ignored} ignored (not catalog tools)"
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


def source_baseline_due(*, source_id: int) -> bool:
    """Whether the source's next run is its baseline (no successful run recorded one yet).

    Read from the row once the run holds its lease: a run that finished meanwhile took it."""
    return IngestSource.objects.filter(pk=source_id, baseline_at__isnull=True).exists()


def next_wait(every: dt.timedelta, failures_in_row: int = 0) -> dt.timedelta:
    """How long until the source is read again: its interval, or a failing one's backoff."""
    if not failures_in_row:
        return every
    first = min(every, RETRY_FIRST)
    return min(first * 2 ** min(failures_in_row - 1, 16), max(every, RETRY_MAX))


def _jittered(wait: dt.timedelta) -> dt.timedelta:
    return wait * (1 + random.uniform(0, JITTER))


def next_due(*, source_id: int, every: dt.timedelta, run_began: dt.datetime) -> dt.datetime:
    """When a source read successfully is read next: the first time on its grid after its run
    began. A run that began on time (or a little late) makes it exactly one interval after the
    time it was due; a first run, or one a stopped worker made late, the next grid time, sooner
    than an interval: an item is never found later than one interval after it appeared."""
    step = max(every // MS, 1)  # in whole milliseconds, as SQLite's clock counts
    phase = int(source_id * PHASE_STEP % 1 * step)
    began = (run_began - EPOCH) // MS
    return EPOCH + MS * (phase + ((began - phase) // step + 1) * step)


def source_health_store(*, source_id: int, report: SourceReport, store: ValidatorStore) -> None:
    """End the run's lease and keep its health on the row; keep the listing's validators
    only when every item was stored; set when it is read next (its interval, or a backoff).
    Sets `report.failures_in_row`."""
    now = timezone.now()
    rows = IngestSource.objects.filter(pk=source_id)
    source = rows.only("kind", "interval", "last_run_at").first()
    every = source.every if source else RETRY_MAX
    if report.error:
        rows.update(
            running=False,
            last_error=report.error,
            last_error_at=now,
            failures_in_row=F("failures_in_row") + 1,
            unreachable=report.unreachable,
        )
        report.failures_in_row = rows.values_list("failures_in_row", flat=True).first() or 0
        wait = next_wait(every, report.failures_in_row)
        rows.update(next_run_at=Now() + _jittered(wait))
        # Seen in the worker's log too: a failing source is never skipped in silence. A host
        # not reached is said once, by `up` and `status` ("offline?"), not per source and try.
        logger.log(
            logging.INFO if report.unreachable else logging.WARNING,
            "%s (%d runs in a row; next try in %s)",
            report.error,
            report.failures_in_row,
            _duration(wait),
        )
        return
    with transaction.atomic():
        if report.problems:
            # Read the whole listing again next time: the skipped items get another chance.
            store.discard()
            rows.update(last_error="\n".join(report.problems)[:ERROR_CHARS], last_error_at=now)
        store.save()
        rows.update(
            running=False,
            last_success_at=now,
            failures_in_row=0,
            unreachable=False,
            items_seen=report.items,
            # The run's lease dated its start in database time (a run without one: now).
            next_run_at=next_due(
                source_id=source_id,
                every=every,
                run_began=source.last_run_at if source and source.last_run_at else now,
            ),
        )
        if report.baseline:
            rows.filter(baseline_at__isnull=True).update(baseline_at=now)
    report.failures_in_row = 0


def _duration(wait: dt.timedelta) -> str:
    seconds = wait.total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.0f} h"


def sources_due_claim() -> list[int]:
    """Claim every enabled source whose next run is due, the longest-waiting first: its next
    run moves a lease ahead, so the next look does not claim it again while its run waits in
    the queue (the run sets the real next time when it ends). Return their ids."""
    due = IngestSource.objects.filter(enabled=True).filter(
        Q(next_run_at__isnull=True) | Q(next_run_at__lte=Now())
    )
    order = [F("next_run_at").asc(nulls_first=True), "pk"]
    claimed = []
    for pk in due.order_by(*order).values_list("pk", flat=True):
        # One conditional update each: two lookers never claim one source twice.
        if due.filter(pk=pk).update(next_run_at=Now() + RUN_LEASE):
            claimed.append(pk)
    return claimed


def sources_next_due() -> dt.datetime | None:
    """When the earliest enabled source is due (now, for one never read); None: no source."""
    rows = IngestSource.objects.filter(enabled=True)
    if rows.filter(next_run_at__isnull=True).exists():
        return timezone.now()
    return rows.order_by("next_run_at").values_list("next_run_at", flat=True).first()
