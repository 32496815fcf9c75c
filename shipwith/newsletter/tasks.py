"""Background adapters: each takes plain values, calls the work, and returns a summary; and
the helpers that queue them. Only callers import this module; the work never does."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from shipwith.core.schedule import queue_single, queued_at
from shipwith.newsletter.issues import issue_compose
from shipwith.newsletter.selectors import Week
from shipwith.newsletter.sending import SendReport, issue_send
from shipwith.newsletter.subscribers import subscription_request

WEEKLY_PATH = "shipwith.newsletter.tasks.newsletter_weekly"
SEND_HOUR_UTC = 7
# Deferred copies (a server kept saying 4xx) or an unreachable server: try again later.
RETRY_ROUNDS = 3
RETRY_AFTER = dt.timedelta(hours=1)


@task()
def confirmation_send(email: str, category_ids: list[int]) -> bool:
    return subscription_request(email=email, category_ids=category_ids)


def confirmation_enqueue(*, email: str, category_ids: list[int]) -> None:
    """Mail the address its confirmation link from the worker, once the transaction commits."""
    transaction.on_commit(lambda: confirmation_send.enqueue(email, category_ids))


def next_weekly_run(now: dt.datetime | None = None) -> dt.datetime:
    """Next Monday at SEND_HOUR_UTC, strictly after now."""
    now = now or timezone.now()
    monday = (now - dt.timedelta(days=now.weekday())).replace(
        hour=SEND_HOUR_UTC, minute=0, second=0, microsecond=0
    )
    return monday if monday > now else monday + dt.timedelta(days=7)


def weekly_scheduled() -> dt.datetime | None:
    """When the weekly send is queued to run next, or None."""
    return queued_at(WEEKLY_PATH)


def weekly_schedule() -> dt.datetime:
    """Queue the weekly send unless one is already queued (two processes at once, e.g. two
    `up`s, queue one); return when it runs."""
    return queue_single(newsletter_weekly, next_weekly_run())


@task()
def newsletter_weekly() -> str:
    """Send last week's issue, then queue next week's run (django-tasks has no cron)."""
    # Queue the next run first, so a failing send does not break the chain.
    if weekly_scheduled() is None:
        newsletter_weekly.using(run_after=next_weekly_run()).enqueue()
    issue = issue_compose(week=Week.last_complete())
    if issue is None:
        return "nothing new last week: no issue"
    report = issue_send(issue_id=issue.pk)
    _follow_up(issue.pk, report, 0)
    return str(report)


@task()
def issue_send_again(issue_id: int, round_number: int) -> str:
    """Resume an issue's send: deferred copies get another chance, nobody gets two."""
    report = issue_send(issue_id=issue_id)
    _follow_up(issue_id, report, round_number)
    return str(report)


def _follow_up(issue_id: int, report: SendReport, round_number: int) -> None:
    if (report.deferred or report.aborted) and round_number < RETRY_ROUNDS:
        issue_send_again.using(run_after=timezone.now() + RETRY_AFTER).enqueue(
            issue_id, round_number + 1
        )
