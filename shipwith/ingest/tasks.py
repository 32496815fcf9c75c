"""Background work of ingest: the sources polled, each on its own interval, and the tools' pages
refreshed daily. django-tasks has no cron: each chain queues its own next link.

- `ingest_poll` looks at the sources: it claims each due one (`next_run_at` passed, in
  database time) and queues a run of it (`ingest_source`), a couple of seconds apart, then
  queues itself again for exactly when the next source is due (within POLL_WAIT_MAX, so a
  source an editor adds is read within minutes). Each run sets its source's next time (the
  next on its grid, or a failing source's backoff: sources.py) and brings the next look
  forward to it if need be.
- `ingest_refresh` re-fetches the catalog's source pages (conditional GET), then queues
  itself a day later.

`polling_schedule` (called by `up`) queues both at once, unless they are queued already: one
chain of each, however many `up`s start.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from shipwith.core.schedule import queue_single, unqueue
from shipwith.ingest.refresh import sources_refresh
from shipwith.ingest.run import source_run
from shipwith.ingest.sources import sources_due_claim, sources_next_due

POLL_PATH = "shipwith.ingest.tasks.ingest_poll"
REFRESH_PATH = "shipwith.ingest.tasks.ingest_refresh"
# The daily run that polling replaced: a queued one is dropped.
DAILY_PATH = "shipwith.ingest.tasks.ingest_daily"
# The polling looks again when the next source is due (the worker wakes for it: a source is
# read within a fraction of a second of its time), but at least this often (a source added in
# the admin is due at once). A source already due when a look ends (added meanwhile, or one the
# look failed to claim) is looked at POLL_WAIT_MIN later: a failing look never spins.
POLL_WAIT_MAX = dt.timedelta(minutes=5)
POLL_WAIT_MIN = dt.timedelta(seconds=1)
# SQLite's clock (`Now()`) counts whole milliseconds: a look in the very millisecond a source is
# due would not find it due yet, so the look comes one millisecond after.
CLOCK_STEP = dt.timedelta(milliseconds=1)
# Runs found due at one look start this far apart: sources due together do not fire together.
SPREAD = dt.timedelta(seconds=2)
REFRESH_EVERY = dt.timedelta(days=1)
OFF = "polling is off (SHIPWITH_INGEST_POLL=0)"


def polling_schedule() -> bool:
    """Queue the polling at once (bringing a later look forward) and the tools' pages refresh
    unless it is queued already (a refresh is queued at once only the first time); False when
    polling is off."""
    if not settings.SHIPWITH_INGEST_POLL:
        return False
    unqueue(DAILY_PATH)
    now = timezone.now()
    queue_single(ingest_poll, now, sooner=True)
    queue_single(ingest_refresh, now)
    return True


def poll_soon() -> None:
    """Look at the sources now (a source was just added), if polling is on."""
    if settings.SHIPWITH_INGEST_POLL:
        transaction.on_commit(lambda: queue_single(ingest_poll, timezone.now(), sooner=True))


def source_run_enqueue(*, source_id: int, run_after: dt.datetime) -> None:
    transaction.on_commit(
        lambda: ingest_source.using(run_after=run_after).enqueue(source_id=source_id)
    )


def _next_look(now: dt.datetime) -> dt.datetime:
    due = sources_next_due() or now + POLL_WAIT_MAX
    return now + POLL_WAIT_MIN if due <= now else min(due + CLOCK_STEP, now + POLL_WAIT_MAX)


@task()
def ingest_poll() -> str:
    """Queue a run of every due source, then look again when the next one is due."""
    if not settings.SHIPWITH_INGEST_POLL:
        return OFF  # and the chain ends
    claimed: list[int] = []
    try:
        claimed = sources_due_claim()
        now = timezone.now()
        for position, source_id in enumerate(claimed):
            source_run_enqueue(source_id=source_id, run_after=now + position * SPREAD)
    finally:  # whatever happened, the chain goes on
        look = queue_single(ingest_poll, _next_look(timezone.now()), sooner=True)
    return f"{len(claimed)} sources queued; next look at {look:%H:%M:%S} UTC"


@task()
def ingest_source(source_id: int) -> str:
    """Read one source (its run sets when it is read next), and have the polling look again
    by then if it would look later."""
    try:
        report = source_run(source_id=source_id)
    finally:
        if settings.SHIPWITH_INGEST_POLL:
            queue_single(ingest_poll, _next_look(timezone.now()), sooner=True)
    return str(report) if report else f"source {source_id}: gone or disabled"


# Pages are refreshed once a day: after whatever else is due (the sources' first runs, which
# `up` reports on, come first).
@task(priority=-10)
def ingest_refresh() -> str:
    """Re-fetch every tool's source pages, then queue tomorrow's refresh."""
    if not settings.SHIPWITH_INGEST_POLL:
        return OFF
    try:
        return str(sources_refresh())
    finally:
        queue_single(ingest_refresh, timezone.now() + REFRESH_EVERY)
