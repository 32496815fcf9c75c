"""Reads of ingest: what a run matches against, and the lists editors look at."""

import datetime as dt

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.ingest.dedupe import Entry
from shipwith.ingest.errors import IngestError
from shipwith.ingest.models import Candidate, IngestSource, Mention, Status

# What an editor has waiting, as `up` counts it.
WAITING = (Status.NEW, Status.UPDATE, Status.BACKLOG)


def dedupe_entries(*, tools_after: int = 0, candidates_after: int = 0) -> list[Entry]:
    """Every catalog tool (names and aliases) and every new, backlog or rejected candidate of
    a tool not in the catalog; with `*_after`, only those added since (ids above it)."""
    entries = []
    tools = Tool.objects.filter(pk__gt=tools_after).values_list(
        "pk",
        "name",
        "aliases",
        "vendor__name",
        "huggingface_id",
        "openrouter_slug",
        "github_repo",
        "homepage_domain",
    )
    for pk, name, aliases, vendor, hf, openrouter, github, domain in tools.iterator(
        chunk_size=2000
    ):
        vendors = [vendor or ""]
        # The owner part of an identifier names the vendor too ("meta-llama", "qwen").
        vendors += [value.split("/", 1)[0] for value in (hf, openrouter) if "/" in value]
        names = [name, *(line.strip() for line in aliases.splitlines() if line.strip())]
        entries.append(Entry(("tool", pk), names, vendors, hf, openrouter, github, domain))
    candidates = Candidate.objects.filter(
        pk__gt=candidates_after,
        tool__isnull=True,
        status__in=[Status.NEW, Status.BACKLOG, Status.REJECTED],
    ).values_list(
        "pk",
        "name",
        "vendor",
        "huggingface_id",
        "openrouter_slug",
        "github_repo",
        "homepage_domain",
    )
    for pk, name, vendor, hf, openrouter, github, domain in candidates.iterator(chunk_size=2000):
        entries.append(Entry(("candidate", pk), [name], [vendor], hf, openrouter, github, domain))
    return entries


def sources_to_run(names: list[str]) -> list[IngestSource]:
    """The named sources (an unknown name is an error), or every enabled one."""
    if not names:
        return list(IngestSource.objects.filter(enabled=True).select_related("category_hint"))
    found = {
        s.name: s
        for s in IngestSource.objects.filter(name__in=names).select_related("category_hint")
    }
    if missing := [name for name in names if name not in found]:
        raise IngestError(f"no source named {', '.join(map(repr, missing))}")
    return [found[name] for name in names]


def candidates_listed(status: str | None = None) -> QuerySet[Candidate]:
    rows = Candidate.objects.select_related("tool", "category").prefetch_related("mentions")
    return rows.filter(status=status) if status else rows.order_by("pk")


def tools_new_this_week(now: dt.datetime | None = None, limit: int = 12) -> list[Tool]:
    """Tools accepted from ingest in the last 7 days, newest first."""
    since = (now or timezone.now()) - dt.timedelta(days=7)
    ids = (
        Candidate.objects.filter(status=Status.ACCEPTED, decided_at__gte=since, tool__isnull=False)
        .exclude(tool__created_at__lt=since)
        .values("tool_id")
    )
    return list(
        Tool.objects.filter(pk__in=ids).select_related("category").order_by("-created_at")[:limit]
    )


# Decided candidates leave the editor's queue; every other status (whatever statuses the
# model has) waits in it.
DECIDED = (Status.ACCEPTED, Status.REJECTED)


def candidates_queue(status: str = "") -> QuerySet[Candidate]:
    """The editor's queue, newest first: one status, or every undecided candidate; each with
    its mentions' sources (not their pages)."""
    mentions = Mention.objects.defer("facts", "page_text")
    rows = Candidate.objects.select_related("tool", "category").prefetch_related(
        Prefetch("mentions", queryset=mentions)
    )
    return rows.filter(status=status) if status else rows.exclude(status__in=DECIDED)


def candidate_status_counts() -> dict[str, int]:
    """How many candidates hold each status (every status, zero included), in one query."""
    counts = dict(Candidate.objects.values_list("status").annotate(n=Count("pk")).order_by())
    return {status: counts.get(status, 0) for status in Status.values}


def candidate_next(*, after: Candidate, status: str = "") -> Candidate | None:
    """The undecided candidate after `after` in the queue (as it stood when it was read),
    else the first one left: where an editor goes once a candidate is decided."""
    queue = candidates_queue(status).exclude(status__in=DECIDED).exclude(pk=after.pk)
    later = Q(updated_at__lt=after.updated_at) | Q(updated_at=after.updated_at, pk__lt=after.pk)
    return queue.filter(later).first() or queue.first()


def sources_due_now() -> dict[int, dt.datetime | None]:
    """The enabled sources due to be read now, each with when it last ran: what `up` waits
    on to say in one line how their runs went (`sources_round`)."""
    due = IngestSource.objects.filter(enabled=True).filter(
        Q(next_run_at__isnull=True) | Q(next_run_at__lte=Now())
    )
    return dict(due.values_list("pk", "last_run_at"))


def _sources(count: int) -> str:
    return f"{count} source{'s' if count != 1 else ''}"


def sources_round(waiting: dict[int, dt.datetime | None]) -> str | None:
    """One line on how the runs of the `waiting` sources went, once each has run since it was
    waited on (None until then): read, unreachable (offline?) or failed, and the candidates
    an editor has waiting."""
    rows = IngestSource.objects.filter(pk__in=waiting).values_list(
        "pk", "last_run_at", "running", "failures_in_row", "unreachable"
    )
    read = unreachable = failed = 0
    for pk, last_run_at, running, failures, offline in rows:
        if running or last_run_at == waiting[pk]:
            return None  # not run yet (a deleted or disabled one is not waited for)
        if not failures:
            read += 1
        elif offline:
            unreachable += 1
        else:
            failed += 1
    if unreachable and not (read or failed):
        return (
            f"ingest: {_sources(unreachable)} unreachable — offline? Each is tried again "
            "with backoff; `shipwith status` shows them."
        )
    counts = Candidate.objects.aggregate(
        **{status: Count("pk", filter=Q(status=status)) for status in WAITING}
    )
    line = (
        f"ingest: {_sources(read)} read; waiting for an editor: {counts['new']} new, "
        f"{counts['update']} updates, {counts['backlog']} in the back catalog "
        "(shipwith ingest candidates, or the admin)"
    )
    if unreachable:
        line += f"; {unreachable} unreachable — offline?"
    if failed:
        line += f"; {failed} failed (shipwith status)"
    return line
