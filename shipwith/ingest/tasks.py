"""Background work of ingest: the daily run, queued again by itself (django-tasks has no cron)."""

import datetime as dt

from django.utils import timezone
from django_tasks import task

from shipwith.core.schedule import queue_once, queued_at
from shipwith.ingest.refresh import sources_refresh
from shipwith.ingest.run import ingest_run

DAILY_PATH = "shipwith.ingest.tasks.ingest_daily"
RUN_HOUR_UTC = 5


def next_daily_run(now: dt.datetime | None = None) -> dt.datetime:
    """The next RUN_HOUR_UTC o'clock, strictly after now."""
    now = now or timezone.now()
    today = now.replace(hour=RUN_HOUR_UTC, minute=0, second=0, microsecond=0)
    return today if today > now else today + dt.timedelta(days=1)


def daily_schedule() -> dt.datetime:
    """Queue the daily run unless one is already queued; return when it runs."""
    return queue_once(ingest_daily, next_daily_run)


@task()
def ingest_daily() -> str:
    """Read every enabled source, refresh the tools' pages, then queue tomorrow's run."""
    # Queue the next run first, so a failing run does not break the chain.
    if queued_at(DAILY_PATH) is None:
        ingest_daily.using(run_after=next_daily_run()).enqueue()
    reports = ingest_run()
    refreshed = sources_refresh()
    return "\n".join([*(str(report) for report in reports), str(refreshed)])
