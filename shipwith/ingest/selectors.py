"""Reads of ingest: what a run matches against, and the lists editors look at."""

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.ingest.dedupe import Entry
from shipwith.ingest.errors import IngestError
from shipwith.ingest.models import Candidate, IngestSource, Status


def dedupe_entries(*, tools_after: int = 0, candidates_after: int = 0) -> list[Entry]:
    """Every catalog tool (names and aliases) and every undecided or rejected new candidate;
    with `*_after`, only those added since (ids above it)."""
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
        pk__gt=candidates_after, tool__isnull=True, status__in=[Status.NEW, Status.REJECTED]
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
