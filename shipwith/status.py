"""The operator's one screen: `shipwith status` and the admin's index read it from here.

Each app is read through its models and selectors, in a constant number of queries however many
tools, sources, candidates or tasks there are. `needs_attention` is the rule for the command's
exit status (and the admin's warning): a failing enabled source, a task failed in the last
24 hours, a task due for over an hour while no task runs (no worker), or a panel model that
cannot be built.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, Min, OuterRef, Q, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from shipwith.catalog.models import Tool
from shipwith.core.schedule import queued_at
from shipwith.ingest.models import Candidate, IngestSource
from shipwith.ingest.models import Status as CandidateStatus
from shipwith.ingest.tasks import POLL_PATH
from shipwith.newsletter.issues import issue_counts
from shipwith.newsletter.models import DeliveryStatus, Issue
from shipwith.newsletter.tasks import weekly_scheduled
from shipwith.panel.llm import LLMError, model_for
from shipwith.panel.llm.discover import model_auto_export
from shipwith.panel.models import Seat, SeatStatus, is_low_capability
from shipwith.panel.selectors import (
    runs_to_finish,
    tools_lacking_panel,
    tools_with_panel,
    verdict_since,
)

# Tasks that finished this recently count as "failed/succeeded lately".
RECENT = dt.timedelta(hours=24)
# A task due this long while none runs: no worker is taking tasks.
NO_WORKER_AFTER = dt.timedelta(hours=1)
# Candidate statuses an editor is waiting on ("backlog": a source's first run, where it exists).
WAITING = ("new", "update", "backlog")
RECENT_FAILURES_SHOWN = 5
# The last issue's deliveries as the operator counts them: still to go (the next send retries
# deferred copies) and lost (refused, or in doubt and never resent).
DELIVERY_PENDING = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED)
DELIVERY_FAILED = (DeliveryStatus.BOUNCED, DeliveryStatus.IN_DOUBT)


@dataclass(frozen=True)
class ModelStatus:
    spec: str
    message: str  # the line `up` prints: which model, and why
    low_capability: bool | None  # None: the spec cannot be built (see error)
    error: str = ""


@dataclass(frozen=True)
class PanelCounts:
    verdicts: int  # tools whose panel is complete with no draft take
    drafts: int  # tools with a take by a low-capability model
    incomplete: int  # tools missing a reviewer (those lacking a panel included)
    lacking_panel: int  # never had a panel run finish: `up` reviews them
    failed_seats: int  # in each tool's newest run: `review --incomplete` asks them again
    recused_seats: int
    to_finish: int  # panels with such seats


@dataclass(frozen=True)
class SourceStatus:
    name: str
    kind: str
    enabled: bool
    health: str  # "ok", "failing", "never run" or "disabled"
    failures_in_row: int
    last_run_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_error: str
    last_error_at: dt.datetime | None
    # When the polling reads it next (at the polling's next look when due already); None:
    # disabled, or no polling queued.
    next_run_at: dt.datetime | None


@dataclass(frozen=True)
class TaskFailure:
    task: str
    finished_at: dt.datetime
    error: str  # the exception's class


@dataclass(frozen=True)
class TaskCounts:
    queued: int  # ready to run, now or later
    due: int  # of those, due now
    running: int
    failed_recently: int
    succeeded_recently: int
    oldest_due_at: dt.datetime | None  # since when the longest-waiting due task has waited
    recent_failures: list[TaskFailure] = field(default_factory=list)


@dataclass(frozen=True)
class IssueStatus:
    slug: str
    composed_at: dt.datetime
    send_started_at: dt.datetime | None
    send_finished_at: dt.datetime | None
    sent: int
    pending: int  # pending, being sent, or deferred (the next send retries)
    failed: int  # bounced, or in doubt (never resent)
    deliveries: dict[str, int]


@dataclass(frozen=True)
class NewsletterStatus:
    next_send_at: dt.datetime | None  # None: the weekly send is not queued
    last_issue: IssueStatus | None


@dataclass(frozen=True)
class OperatorStatus:
    generated_at: dt.datetime
    model: ModelStatus
    panels: PanelCounts
    sources: list[SourceStatus]
    next_ingest_at: dt.datetime | None
    candidates: dict[str, int]
    tasks: TaskCounts
    newsletter: NewsletterStatus
    needs_attention: list[str]


def operator_status(now: dt.datetime | None = None) -> OperatorStatus:
    """Everything the operator's screen shows, and what needs the operator."""
    now = now or timezone.now()
    model = _model()
    next_look = queued_at(POLL_PATH)
    sources = [_source(row, next_look) for row in IngestSource.objects.order_by("name")]
    runs = [source.next_run_at for source in sources if source.next_run_at]
    next_ingest = min(runs) if runs else None
    tasks = _tasks(now)
    return OperatorStatus(
        generated_at=now,
        model=model,
        panels=_panels(),
        sources=sources,
        next_ingest_at=next_ingest,
        candidates=_candidates(),
        tasks=tasks,
        newsletter=_newsletter(),
        needs_attention=_attention(model, sources, tasks, now),
    )


def _model() -> ModelStatus:
    # A throwaway environ: the status reads the choice, it never hands it to children.
    choice = model_auto_export(environ={})
    try:
        low = is_low_capability(model_for(choice.spec).provider)
    except LLMError as exc:
        return ModelStatus(choice.spec, choice.message, None, str(exc))
    return ModelStatus(choice.spec, choice.message, low)


def _panels() -> PanelCounts:
    tools = Tool.objects.all()
    verdicts = tools.annotate(since=verdict_since(OuterRef("pk"))).filter(since__isnull=False)
    runs = runs_to_finish()
    seats = dict(
        Seat.objects.filter(run_id__in=runs, status__in=[SeatStatus.FAILED, SeatStatus.RECUSED])
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return PanelCounts(
        verdicts=verdicts.count(),
        drafts=tools_with_panel(tools, "draft").count(),
        incomplete=tools_with_panel(tools, "incomplete").count(),
        lacking_panel=len(tools_lacking_panel()),
        failed_seats=seats.get(SeatStatus.FAILED, 0),
        recused_seats=seats.get(SeatStatus.RECUSED, 0),
        to_finish=len(runs),
    )


def source_health(source: IngestSource) -> str:
    """One word for a source: disabled, failing (its last run failed), ok, or never run."""
    if not source.enabled:
        return "disabled"
    if source.failures_in_row:
        return "failing"
    return "ok" if source.last_success_at else "never run"


def _next_run(source: IngestSource, next_look: dt.datetime | None) -> dt.datetime | None:
    if not source.enabled or next_look is None:
        return None
    return max(source.next_run_at or next_look, next_look)


def _source(source: IngestSource, next_look: dt.datetime | None) -> SourceStatus:
    return SourceStatus(
        name=source.name,
        kind=source.kind,
        enabled=source.enabled,
        health=source_health(source),
        failures_in_row=source.failures_in_row,
        last_run_at=source.last_run_at,
        last_success_at=source.last_success_at,
        last_error=source.last_error,
        last_error_at=source.last_error_at,
        next_run_at=_next_run(source, next_look),
    )


def _candidates() -> dict[str, int]:
    statuses = [status for status in WAITING if status in CandidateStatus.values]
    counts = dict(
        Candidate.objects.filter(status__in=statuses)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {status: counts.get(status, 0) for status in statuses}


def _tasks(now: dt.datetime) -> TaskCounts:
    since = now - RECENT
    ready = Q(status=TaskResultStatus.READY)
    due = ready & (Q(run_after=get_date_max()) | Q(run_after__lte=now))
    # A task queued without a time is due from when it was queued; one queued for later, from
    # its time (never before it was queued).
    due_since = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")),
        default=Greatest("enqueued_at", "run_after"),
    )
    failed = Q(status=TaskResultStatus.FAILED, finished_at__gte=since)
    counts = DBTaskResult.objects.aggregate(
        queued=Count("pk", filter=ready),
        due=Count("pk", filter=due),
        running=Count("pk", filter=Q(status=TaskResultStatus.RUNNING)),
        failed_recently=Count("pk", filter=failed),
        succeeded_recently=Count(
            "pk", filter=Q(status=TaskResultStatus.SUCCESSFUL, finished_at__gte=since)
        ),
        oldest_due_at=Min(due_since, filter=due),
    )
    failures = (
        DBTaskResult.objects.filter(failed)
        .order_by("-finished_at")
        .values_list("task_path", "finished_at", "exception_class_path")[:RECENT_FAILURES_SHOWN]
    )
    return TaskCounts(
        **counts,
        recent_failures=[
            TaskFailure(path.rsplit(".", 1)[-1], finished, error.rsplit(".", 1)[-1])
            for path, finished, error in failures
        ],
    )


def _newsletter() -> NewsletterStatus:
    issue = Issue.objects.only("slug", "composed_at", "send_started_at", "send_finished_at").first()
    last = None
    if issue:
        counts = issue_counts(issue_id=issue.pk)
        last = IssueStatus(
            slug=issue.slug,
            composed_at=issue.composed_at,
            send_started_at=issue.send_started_at,
            send_finished_at=issue.send_finished_at,
            sent=counts.get(DeliveryStatus.SENT, 0),
            pending=sum(counts.get(status, 0) for status in DELIVERY_PENDING),
            failed=sum(counts.get(status, 0) for status in DELIVERY_FAILED),
            deliveries=counts,
        )
    return NewsletterStatus(next_send_at=weekly_scheduled(), last_issue=last)


def _attention(
    model: ModelStatus, sources: list[SourceStatus], tasks: TaskCounts, now: dt.datetime
) -> list[str]:
    notes = []
    if model.error:
        notes.append(f"the panel model {model.spec} cannot be used: {model.error}")
    for source in sources:
        if source.health == "failing":
            error = source.last_error.splitlines()[0] if source.last_error else "no error kept"
            runs = "run" if source.failures_in_row == 1 else "runs in a row"
            notes.append(
                f"source {source.name} is failing ({source.failures_in_row} {runs}): {error}"
            )
    if tasks.failed_recently:
        notes.append(
            f"{tasks.failed_recently} task{'s' if tasks.failed_recently != 1 else ''} failed "
            "in the last 24 h"
        )
    if tasks.oldest_due_at and not tasks.running and now - tasks.oldest_due_at > NO_WORKER_AFTER:
        notes.append(
            f"{tasks.due} task{'s' if tasks.due != 1 else ''} waiting since "
            f"{tasks.oldest_due_at:%Y-%m-%d %H:%M} UTC and none running: is a worker up "
            "(shipwith up, or shipwith worker)?"
        )
    return notes
