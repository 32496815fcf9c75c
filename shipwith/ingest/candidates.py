"""Candidates: how an item becomes one (a new tool, a mention joining an open candidate, or a
duplicate or update of a catalog tool), matched against everything known (see dedupe.py)."""

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from shipwith.catalog.identifiers import tool_domain
from shipwith.catalog.models import Tool
from shipwith.core.text import plain_text
from shipwith.ingest import selectors
from shipwith.ingest.categorise import Categoriser
from shipwith.ingest.changes import RELEASE, tool_changes
from shipwith.ingest.dedupe import Entry, Index
from shipwith.ingest.items import Facts, Item, facts_renamed
from shipwith.ingest.mentions import candidate_identify, facts_json, mention_put, mentions_merge
from shipwith.ingest.models import Candidate, IngestSource, Mention, Status
from shipwith.ingest.readings import fact_changes, fact_proposals, item_readings

# The PostgreSQL advisory lock taken to add candidates ("Shipwith" in ASCII).
CANDIDATES_LOCK = 0x5368_6970_7769_7468


class RunIndex:
    """What a run matches items against: the dedupe index and the categories, built once and
    kept up with what other processes (another run, an editor's submission) add meanwhile."""

    def __init__(self) -> None:
        self.index = Index()
        self.categoriser = Categoriser.current()
        self._seen = {"tool": 0, "candidate": 0}  # the highest id of each the index holds
        self._add(selectors.dedupe_entries())

    def _add(self, entries: list[Entry]) -> None:
        for entry in entries:
            self.index.add(entry)
            kind, pk = entry.ref
            self._seen[kind] = max(self._seen[kind], pk)

    def catch_up(self) -> None:
        """Take the turn to add candidates, then add to the index what others added since.

        Call inside the item's transaction. Whoever adds candidates holds this turn until its
        transaction ends, so ids grow in the order they become visible and none is skipped:
        two runs that meet one new tool at once propose it once.
        """
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CANDIDATES_LOCK])
        # SQLite: the item's transaction is IMMEDIATE, so it already holds the only write turn.
        self._add(
            selectors.dedupe_entries(
                tools_after=self._seen["tool"], candidates_after=self._seen["candidate"]
            )
        )

    def remember(self, candidate: Candidate) -> None:
        self._add([_candidate_entry(candidate)])


def _candidate_entry(candidate: Candidate) -> Entry:
    return Entry(
        ref=("candidate", candidate.pk),
        names=[candidate.name],
        vendors=[candidate.vendor],
        huggingface=candidate.huggingface_id,
        openrouter=candidate.openrouter_slug,
        github=candidate.github_repo,
        domain=candidate.homepage_domain,
    )


def _mention_name(source: IngestSource | None, submitted_by: str = "") -> str:
    return source.name if source else f"submitted by {submitted_by or 'an editor'}"


def _release_change(tool: Tool, release: str, seen_at) -> list | None:
    """[previous, new] when `release` is newer than the last release accepted for the tool."""
    if not release:
        return None
    last = (
        Mention.objects.filter(candidate__tool=tool, candidate__status=Status.ACCEPTED)
        .exclude(release="")
        .order_by("-seen_at", "-pk")
        .values_list("release", "seen_at")
        .first()
    )
    if last and (release == last[0] or seen_at <= last[1]):
        return None  # known, or older than what was accepted (a feed lists past releases)
    return [last[0] if last else None, release]


def candidate_changes(tool: Tool, candidate: Candidate) -> dict:
    """What the candidate would change on its tool now: {field: [old, new]}, its sources'
    changed readings as {"fact:KEY": [old, new]} (changes.py)."""
    facts = facts_renamed(candidate.facts)  # stored before facts took the registry's names
    changes = tool_changes(tool, facts) | fact_changes(fact_proposals(tool, candidate))
    newest = (
        candidate.mentions.exclude(release="").order_by("-seen_at", "-pk").first()
        if candidate.pk
        else None
    )
    if newest and (change := _release_change(tool, newest.release, newest.seen_at)):
        changes[RELEASE] = change
    return changes


def _known_tool_item(
    item: Item, tool: Tool, source: IngestSource | None, source_name: str, now
) -> tuple[str, Candidate]:
    """A mention of a catalog tool: a duplicate, or an update carrying old and new values. A
    trusted source's new and repeated readings of its facts are recorded here (readings.py)."""
    readings = item_readings(tool=tool, item=item, source=source, now=now)
    changes = tool_changes(tool, facts_json(item.facts)) | readings
    if change := _release_change(tool, item.release or "", item.seen_at):
        changes[RELEASE] = change
    # Already recorded on a decided candidate with nothing new: refresh it, propose nothing.
    earlier = Candidate.objects.filter(
        tool=tool, mentions__source_name=source_name, mentions__key=item.key[:300]
    ).exclude(status__in=[Status.NEW, Status.UPDATE, Status.DUPLICATE])
    if not changes and (decided := earlier.order_by("-pk").first()):
        changed = mention_put(decided, item, source, source_name, now)
        return ("updated" if changed else "unchanged"), decided
    rejected = Candidate.objects.filter(tool=tool, status=Status.REJECTED, changes=changes)
    if changes and (decided := rejected.order_by("-pk").first()):
        mention_put(decided, item, source, source_name, now)
        return "unchanged", decided  # rejected once: never proposed again
    candidate = Candidate.objects.open().filter(tool=tool).order_by("pk").first()
    created = candidate is None
    if created:
        candidate = Candidate(name=tool.name, tool=tool, category=tool.category, facts={})
        candidate_identify(candidate, item)
        candidate.save()
    changed = mention_put(candidate, item, source, source_name, now)
    if not (created or changed):
        return "unchanged", candidate
    mentions_merge(candidate)
    candidate_identify(candidate, item)
    candidate.changes = candidate_changes(tool, candidate)
    candidate.status = Status.UPDATE if candidate.changes else Status.DUPLICATE
    candidate.save()
    return ("created" if created else "updated"), candidate


def item_store(
    item: Item,
    *,
    source: IngestSource | None,
    source_name: str,
    run: RunIndex,
    now: datetime,
    unknown_as: str | None = Status.NEW,
) -> tuple[str, Candidate | None]:
    """Match one item and store it (call inside its transaction): a new candidate, a mention
    joining one, or a duplicate or update of a catalog tool. Return the outcome and the
    candidate.

    `unknown_as` is what an item that matches nothing becomes: a NEW candidate, a BACKLOG one
    (a source's first run lists its back catalog), or nothing (None: a source of updates only,
    whose items must name a catalog tool): ("ignored", None).
    """
    run.catch_up()
    ids = item.identifiers
    match = run.index.match(
        name=item.name,
        vendor=item.vendor,
        huggingface=ids.huggingface,
        openrouter=ids.openrouter,
        github=ids.github,
        # A page deep in a site ("quill.example/relay/") does not name the site's tool.
        domain=tool_domain(item.facts.homepage) if item.facts.homepage else ids.domain,
    )
    if match and match.ref[0] == "tool":
        tool = Tool.objects.select_related("category").filter(pk=match.ref[1]).first()
        if tool is not None:
            return _known_tool_item(item, tool, source, source_name, now)
        match = None
    if unknown_as is None:
        return "ignored", None
    candidate = None
    if match:
        candidate = Candidate.objects.select_for_update().filter(pk=match.ref[1]).first()
    if candidate is None:
        hint = source.category_hint if source else None
        candidate = Candidate(
            name=(plain_text(item.name) or item.key)[:200],
            status=unknown_as,
            category=run.categoriser.propose(item, kind=source.kind if source else "", hint=hint),
        )
        candidate_identify(candidate, item)
        candidate.save()
        mention_put(candidate, item, source, source_name, now)
        mentions_merge(candidate)
        candidate.save()
        run.remember(candidate)
        return "created", candidate
    changed = mention_put(candidate, item, source, source_name, now)
    if candidate.status == Status.REJECTED or not changed:
        return "unchanged", candidate  # a rejected tool is never proposed again
    candidate_identify(candidate, item)
    mentions_merge(candidate)
    # "Llama 3.1 8B Instruct" (a listing's display name) reads better than a repository's
    # "Llama-3.1-8B-Instruct".
    name = (plain_text(item.name) or "")[:200]
    if " " not in candidate.name and " " in name:
        candidate.name = name
    # What all its sources say now may fit another category better ("open_weights" from
    # the Hub for a model first seen on OpenRouter), unless an editor chose one.
    if not candidate.category_chosen:
        merged = item.model_copy(update={"facts": Facts.model_validate(candidate.facts)})
        hint = source.category_hint if source else None
        candidate.category = (
            run.categoriser.propose(merged, kind=source.kind if source else "", hint=hint)
            or candidate.category
        )
    candidate.save()
    run.remember(candidate)
    return "updated", candidate


def candidate_submit(*, item: Item, submitted_by: str) -> Candidate:
    """Propose a tool by hand (API, admin): matched and deduplicated like any source's item."""
    with transaction.atomic():
        _, candidate = item_store(
            item,
            source=None,
            source_name=_mention_name(None, submitted_by),
            run=RunIndex(),
            now=timezone.now(),
        )
        if not candidate.submitted_by:
            Candidate.objects.filter(pk=candidate.pk, submitted_by="").update(
                submitted_by=submitted_by[:150]
            )
            candidate.submitted_by = submitted_by[:150]
    return candidate
