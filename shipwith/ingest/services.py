"""Writes of ingest: sources, the run that turns items into candidates, and the decisions."""

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from shipwith.catalog.files import slugify
from shipwith.catalog.identifiers import tool_domain
from shipwith.catalog.models import Category, PriceChange, PriceKind, Source, Tag, Tool, Vendor
from shipwith.core.freshness import tools_touch
from shipwith.core.text import plain_text
from shipwith.ingest import normalise, selectors
from shipwith.ingest.categorise import Categoriser
from shipwith.ingest.changes import (
    LICENCE,
    LICENCE_KIND,
    MATERIAL,
    PRICE,
    PRICE_UNIT,
    RELEASE,
    facts_text,
    money,
    tool_changes,
)
from shipwith.ingest.dedupe import Entry, Index
from shipwith.ingest.errors import ERROR_CHARS, IngestError
from shipwith.ingest.items import Facts, Item, ItemProblem
from shipwith.ingest.models import (
    NEVER_AUTOPUBLISH,
    Candidate,
    IngestSource,
    Kind,
    Mention,
    Status,
)
from shipwith.ingest.validators import ValidatorStore

logger = logging.getLogger(__name__)

# A source's run holds a lease this long; a crashed run's lease lapses on its own.
RUN_LEASE = dt.timedelta(hours=1)
PROBLEM_CHARS, KEY_CHARS = 1000, 200
# The PostgreSQL advisory lock taken to add candidates ("Shipwith" in ASCII).
CANDIDATES_LOCK = 0x5368_6970_7769_7468


# What an item ingest cannot take raises: reported with its message alone. Anything else is a
# bug the item tripped, reported with its type and logged with its traceback.
ITEM_ERRORS = (IngestError, ValueError, DatabaseError)


# ---------------------------------------------------------------- sources


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
    from django.core.exceptions import ValidationError

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
    from shipwith.ingest.adapters import SourceFormatError, adapter_for

    try:  # the adapter checks its options and URL when it is made; nothing is fetched
        adapter_for(kind)(url=url, options=options or {}, fetcher=None)
    except SourceFormatError as exc:
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


# ---------------------------------------------------------------- the run


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


class _Run:
    """What one run knows: the dedupe index and the categories, built once and kept up with
    what other processes (another run, an editor's submission) add meanwhile."""

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


def _facts_json(facts: Facts) -> dict:
    return facts.model_dump(mode="json", exclude_defaults=True)


def _mention_put(
    candidate: Candidate, item: Item, source: IngestSource | None, source_name: str, now
) -> bool:
    """Create or refresh the mention of `item` on `candidate`; return whether it changed."""
    page = item.page
    values = {
        "source_id": source.pk if source else None,
        "url": item.url[:1000],
        "facts": _facts_json(item.facts),
        "release": (item.release or "")[:120],
        "page_title": (page.title if page else "")[:300],
        "page_text": page.text if page else "",
    }
    mention = Mention.objects.filter(
        candidate=candidate, source_name=source_name, key=item.key[:300]
    ).first()
    if mention is None:
        Mention.objects.create(
            candidate=candidate,
            source_name=source_name,
            key=item.key[:300],
            seen_at=item.seen_at,  # when the source first said it; kept on later runs
            fetched_at=page.fetched_at if page else now,
            **values,
        )
        return True
    if {name: getattr(mention, name) for name in values} == values:
        return False
    for name, value in values.items():
        setattr(mention, name, value)
    mention.fetched_at = page.fetched_at if page else now
    mention.save()
    return True


def _merge(candidate: Candidate) -> None:
    """Recompute the candidate's facts: each from the latest mention that gives it."""
    merged: dict = {}
    origins: dict = {}
    tags: list[str] = []
    releases = []
    for mention in candidate.mentions.order_by("fetched_at", "pk"):
        for name, value in mention.facts.items():
            if name == "tags":
                tags.extend(t for t in value if t not in tags)
            elif value not in (None, ""):
                merged[name] = value
                origins[name] = mention.pk
        if mention.release:
            releases.append((mention.seen_at, mention.pk, mention.release))
    if tags:
        merged["tags"] = tags[:30]
    candidate.facts = merged
    candidate.fact_mentions = origins
    # The newest release the sources announce (a feed lists several, newest first).
    candidate.release = max(releases)[2] if releases else ""
    candidate.homepage_domain = candidate.homepage_domain or tool_domain(merged.get("homepage"))


def _identify(candidate: Candidate, item: Item) -> None:
    ids = item.identifiers
    candidate.huggingface_id = candidate.huggingface_id or (ids.huggingface or "").lower()[:200]
    candidate.openrouter_slug = candidate.openrouter_slug or (ids.openrouter or "").lower()[:200]
    candidate.github_repo = candidate.github_repo or (ids.github or "").lower()[:140]
    # Only a site's root names one tool ("ollama.com", not "openai.com/index/…").
    candidate.homepage_domain = candidate.homepage_domain or tool_domain(item.facts.homepage)
    candidate.vendor = candidate.vendor or (item.vendor or "")[:120]


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


def _changes_for(tool: Tool, candidate: Candidate) -> dict:
    changes = tool_changes(tool, candidate.facts)
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
    """A mention of a catalog tool: a duplicate, or an update carrying old and new values."""
    changes = tool_changes(tool, _facts_json(item.facts))
    if change := _release_change(tool, item.release or "", item.seen_at):
        changes[RELEASE] = change
    # Already recorded on a decided candidate with nothing new: refresh it, propose nothing.
    earlier = Candidate.objects.filter(
        tool=tool, mentions__source_name=source_name, mentions__key=item.key[:300]
    ).exclude(status__in=[Status.NEW, Status.UPDATE, Status.DUPLICATE])
    if not changes and (decided := earlier.order_by("-pk").first()):
        changed = _mention_put(decided, item, source, source_name, now)
        return ("updated" if changed else "unchanged"), decided
    rejected = Candidate.objects.filter(tool=tool, status=Status.REJECTED, changes=changes)
    if changes and (decided := rejected.order_by("-pk").first()):
        _mention_put(decided, item, source, source_name, now)
        return "unchanged", decided  # rejected once: never proposed again
    candidate = Candidate.objects.open().filter(tool=tool).order_by("pk").first()
    created = candidate is None
    if created:
        candidate = Candidate(name=tool.name, tool=tool, category=tool.category, facts={})
        _identify(candidate, item)
        candidate.save()
    changed = _mention_put(candidate, item, source, source_name, now)
    if not (created or changed):
        return "unchanged", candidate
    _merge(candidate)
    _identify(candidate, item)
    candidate.changes = _changes_for(tool, candidate)
    candidate.status = Status.UPDATE if candidate.changes else Status.DUPLICATE
    candidate.save()
    return ("created" if created else "updated"), candidate


def _item_store(
    item: Item, *, source: IngestSource | None, source_name: str, run: _Run, now
) -> tuple[str, Candidate]:
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
    candidate = None
    if match:
        candidate = Candidate.objects.select_for_update().filter(pk=match.ref[1]).first()
    if candidate is None:
        hint = source.category_hint if source else None
        candidate = Candidate(
            name=(plain_text(item.name) or item.key)[:200],
            category=run.categoriser.propose(item, kind=source.kind if source else "", hint=hint),
        )
        _identify(candidate, item)
        candidate.save()
        _mention_put(candidate, item, source, source_name, now)
        _merge(candidate)
        candidate.save()
        run.remember(candidate)
        return "created", candidate
    changed = _mention_put(candidate, item, source, source_name, now)
    if candidate.status == Status.REJECTED or not changed:
        return "unchanged", candidate  # a rejected tool is never proposed again
    _identify(candidate, item)
    _merge(candidate)
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
        _, candidate = _item_store(
            item,
            source=None,
            source_name=_mention_name(None, submitted_by),
            run=_Run(),
            now=timezone.now(),
        )
        if not candidate.submitted_by:
            Candidate.objects.filter(pk=candidate.pk, submitted_by="").update(
                submitted_by=submitted_by[:150]
            )
            candidate.submitted_by = submitted_by[:150]
    return candidate


def _lease(source: IngestSource, now) -> bool:
    """Take the source for this run; False if another process is running it."""
    free = Q(running=False) | Q(last_run_at__isnull=True) | Q(last_run_at__lt=now - RUN_LEASE)
    return bool(
        IngestSource.objects.filter(free, pk=source.pk).update(running=True, last_run_at=now)
    )


def _fetcher(store: ValidatorStore | None = None):
    from shipwith.ingest.fetch import Fetcher

    return Fetcher(validators=store)


def items_ingest(
    *,
    source: IngestSource,
    items: Iterable[Item | ItemProblem],
    run: "_Run | None" = None,
    tick: Callable[[], None] = lambda: None,
) -> SourceReport:
    """Store what a source listed: each item in its own transaction, so a bad item is
    reported (naming the source and the item) and the others are kept.

    Whatever one item raises while it is matched, stored or published stays with it; only the
    listing itself failing (`items` raising) fails the source.
    """
    run = run or _Run()
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
                outcome, candidate = _item_store(
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


def _source_run(source: IngestSource, run: _Run, tick: Callable[[], None]) -> SourceReport:
    if not _lease(source, timezone.now()):
        return SourceReport(
            source.name, error=f"source '{source.name}': another process is running it"
        )
    from shipwith.ingest.adapters import adapter_for

    store = ValidatorStore()
    try:
        with _fetcher(store) as fetcher:
            adapter = adapter_for(source.kind)(
                url=source.url, options=source.options, fetcher=fetcher
            )
            report = items_ingest(source=source, items=adapter.items(), run=run, tick=tick)
    except Exception as exc:  # noqa: BLE001 - one bad source never stops the others
        store.discard()
        report = SourceReport(source.name)
        report.error = f"source '{source.name}': {type(exc).__name__}: {exc}"[:ERROR_CHARS]
    _health(source, report, store)
    return report


def _health(source: IngestSource, report: SourceReport, store: ValidatorStore) -> None:
    now = timezone.now()
    rows = IngestSource.objects.filter(pk=source.pk)
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


def ingest_run(
    *, names: Iterable[str] = (), tick: Callable[[], None] = lambda: None
) -> list[SourceReport]:
    """Read every enabled source (or the named ones) into candidates; one bad source never
    stops the others, and each one's health is stored on its row."""
    sources = selectors.sources_to_run(list(names))
    run = _Run()
    return [_source_run(source, run, tick) for source in sources]


# ---------------------------------------------------------------- decisions


def _locked_open(candidate_id: int) -> Candidate:
    candidate = (
        Candidate.objects.select_for_update(of=("self",))
        .select_related("tool")
        .filter(pk=candidate_id)
        .first()
    )
    if candidate is None:
        raise IngestError(f"candidate {candidate_id}: no such candidate")
    if candidate.status in (Status.ACCEPTED, Status.REJECTED):
        raise IngestError(
            f"candidate {candidate_id} ({candidate.name}) is already {candidate.status}"
        )
    return candidate


def _unique_slug(name: str) -> str:
    base = slugify(name) or "tool"
    slug, number = base, 2
    while Tool.objects.filter(slug=slug).exists():
        slug = f"{base[:110]}-{number}"
        number += 1
    return slug


def _tagline(description: str) -> str:
    first = description.split(". ", 1)[0].strip()
    return first if len(first) <= 200 else first[:199].rsplit(" ", 1)[0] + "…"


def _free_identifier(field_name: str, value: str, tool_pk: int | None = None) -> str:
    """The identifier, unless another tool already holds it (they are unique)."""
    if not value:
        return ""
    taken = Tool.objects.filter(**{field_name: value}).exclude(pk=tool_pk).exists()
    return "" if taken else value


def _price_stored(candidate: Candidate, price: str) -> Decimal:
    """The candidate's price as the catalog stores it (PriceChange's columns are Tool's), or
    IngestError before anything is written: candidates stored before prices were bounded at
    normalisation may hold one no column does."""
    try:
        return normalise.column_decimal(
            Tool,
            "price_amount",
            Decimal(price),
            field=PRICE,
            shown=price,
            unit=normalise.PER_MTOK,
        )
    except (ValueError, ArithmeticError) as exc:
        raise IngestError(
            f"candidate {candidate.pk} ({candidate.name}): {exc}; not accepted"
        ) from None


def _tool_create(candidate: Candidate, category: Category) -> Tool:
    facts = candidate.facts
    price = money(facts.get(PRICE))
    amount = _price_stored(candidate, price) if price is not None else None
    description = plain_text(facts.get("description") or "")[:5000]
    vendor = None
    if candidate.vendor:
        vendor, _ = Vendor.objects.get_or_create(
            slug=slugify(candidate.vendor) or "vendor", defaults={"name": candidate.vendor}
        )
    release = facts.get("release_date")
    tool = Tool.objects.create(
        name=candidate.name[:120],
        slug=_unique_slug(candidate.name),
        vendor=vendor,
        category=category,
        tagline=_tagline(description),
        description=description,
        licence=(facts.get("licence") or "")[:120],
        licence_kind=facts.get("licence_kind") or "",
        homepage=(facts.get("homepage") or "")[:200],
        release_date=dt.date.fromisoformat(release) if release else None,
        price_kind=PriceKind.USAGE if price is not None else "",
        price_amount=amount,
        price_unit=PRICE_UNIT if price is not None else "",
        huggingface_id=_free_identifier("huggingface_id", candidate.huggingface_id),
        openrouter_slug=_free_identifier("openrouter_slug", candidate.openrouter_slug),
        github_repo=_free_identifier("github_repo", candidate.github_repo),
        homepage_domain=_free_identifier("homepage_domain", candidate.homepage_domain),
    )
    tags = [slugify(t)[:50] for t in facts.get("tags", [])]
    tool.tags.set([Tag.objects.get_or_create(name=t)[0] for t in dict.fromkeys(tags) if t][:10])
    # The panel quotes from the sources: each mention's page, or what its listing said.
    Source.objects.bulk_create(
        Source(
            tool=tool,
            url=mention.url[:500],
            title=(mention.page_title or f"{mention.source_name}: {candidate.name}")[:200],
            checked_on=mention.fetched_at.date(),
            snapshot=mention.page_text or facts_text(candidate.name, mention.facts),
            position=position,
        )
        for position, mention in enumerate(candidate.mentions.order_by("fetched_at", "pk"))
    )
    return tool


def _where(candidate: Candidate, fact: str) -> str:
    mention = Mention.objects.filter(pk=candidate.fact_mentions.get(fact)).first()
    return f"{mention.source_name} {mention.url}"[:500] if mention else ""


def _tool_update(candidate: Candidate, tool: Tool, now) -> bool:
    """Apply the candidate's changes; return whether one of them is material (re-review)."""
    current = _changes_for(tool, candidate)
    for name, (old, _) in candidate.changes.items():
        if name not in current or current[name][0] != old:
            raise IngestError(
                f"candidate {candidate.pk} ({candidate.name}): the tool's {name} is no longer "
                f"{old!r}; run ingest again to propose the change afresh"
            )
    changes = candidate.changes
    if PRICE in changes:
        old, new = changes[PRICE]
        amount = _price_stored(candidate, new)
        PriceChange.objects.create(
            tool=tool,
            field="price_amount",
            old=Decimal(old) if old is not None else None,
            new=amount,
            currency="USD",
            unit=PRICE_UNIT if not tool.price_kind else tool.price_unit,
            changed_at=now,
            source=_where(candidate, PRICE),
        )
        tool.price_kind, tool.price_amount = PriceKind.USAGE, amount
        tool.price_unit = tool.price_unit or PRICE_UNIT
        tool.price_currency = "USD"
    if LICENCE in changes:
        tool.licence = changes[LICENCE][1][:120]
    if LICENCE_KIND in changes:
        tool.licence_kind = changes[LICENCE_KIND][1]
    for name, value in [
        ("huggingface_id", candidate.huggingface_id),
        ("openrouter_slug", candidate.openrouter_slug),
        ("github_repo", candidate.github_repo),
    ]:
        if not getattr(tool, name):
            setattr(tool, name, _free_identifier(name, value, tool.pk))
    tool.save()
    return bool(MATERIAL & changes.keys())


def candidate_accept(
    *, candidate_id: int, category_slug: str | None = None, decided_by: str = ""
) -> Tool:
    """Accept in one transaction: a new tool (sources dated, panel queued) or an update
    (applied, prices kept as history, a re-review queued for a price or licence change)."""
    from shipwith.panel.services import panel_run_enqueue

    now = timezone.now()
    with transaction.atomic():
        candidate = _locked_open(candidate_id)
        if candidate.status == Status.DUPLICATE:
            raise IngestError(
                f"candidate {candidate_id} ({candidate.name}) is already in the catalog as "
                f"'{candidate.tool.slug}' with nothing changed: nothing to accept"
            )
        if candidate.status == Status.NEW:
            category = candidate.category
            if category_slug:
                category = Category.objects.filter(slug=category_slug).first()
                if category is None:
                    raise IngestError(f"unknown category '{category_slug}'")
            if category is None:
                raise IngestError(
                    f"candidate {candidate_id} ({candidate.name}) has no proposed category: "
                    "give one (--category SLUG)"
                )
            tool = _tool_create(candidate, category)
            candidate.category = category
            candidate.category_chosen = candidate.category_chosen or bool(category_slug)
            review = True
        else:
            tool = Tool.objects.select_for_update().get(pk=candidate.tool_id)
            review = _tool_update(candidate, tool, now)
        candidate.tool = tool
        candidate.status = Status.ACCEPTED
        candidate.decided_at = now
        candidate.rejection_reason = ""
        candidate.submitted_by = candidate.submitted_by or decided_by[:150]
        candidate.save()
        if review:
            panel_run_enqueue(tool_id=tool.pk)
        transaction.on_commit(lambda: tools_touch(tool.pk))
    return tool


def candidate_reject(*, candidate_id: int, reason: str) -> Candidate:
    """Reject with a reason; the same tool (or the same change) is never proposed again."""
    reason = plain_text(reason or "").strip()
    if not reason:
        raise IngestError(f"candidate {candidate_id}: a rejection needs a reason (--reason TEXT)")
    with transaction.atomic():
        candidate = _locked_open(candidate_id)
        candidate.status = Status.REJECTED
        candidate.rejection_reason = reason[:2000]
        candidate.decided_at = timezone.now()
        candidate.save()
    return candidate


# ---------------------------------------------------------------- facts kept fresh


@dataclass
class RefreshReport:
    fetched: int = 0
    not_modified: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.fetched} pages fetched and stored, {self.not_modified} unchanged (304), "
            f"{len(self.errors)} failed"
        )


class _SourceValidators:
    """The validator store for one catalog source: its own etag and last_modified columns."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.put_values: tuple[str, str] | None = None

    def get(self, url: str) -> tuple[str, str] | None:
        if url == self.source.url and (self.source.etag or self.source.last_modified):
            return self.source.etag, self.source.last_modified
        return None

    def put(self, url: str, etag: str | None, last_modified: str | None) -> None:
        if url == self.source.url:
            self.put_values = ((etag or "")[:200], (last_modified or "")[:100])


SNAPSHOT_CHARS = 20_000


def source_refresh(*, source_id: int, fetcher) -> bool:
    """Fetch one source page (conditional GET); store its text and date only when it was
    fetched (200). Return whether it was; a 304 changes nothing; errors raise FetchError."""
    from shipwith.ingest.pages import page_fetch

    source = Source.objects.get(pk=source_id)
    store = _SourceValidators(source)
    page = page_fetch(source.url, fetcher=fetcher, validators=store)
    if page is None:
        return False
    etag, last_modified = store.put_values or ("", "")
    with transaction.atomic():
        Source.objects.filter(pk=source.pk).update(
            snapshot=page.text[:SNAPSHOT_CHARS],
            title=source.title or page.title[:200],
            checked_on=page.fetched_at.date(),
            etag=etag,
            last_modified=last_modified,
        )
        transaction.on_commit(lambda: tools_touch(source.tool_id))
    return True


def sources_refresh(*, tick: Callable[[], None] = lambda: None) -> RefreshReport:
    """Re-fetch every tool's source pages; one failing page never stops the others."""
    report = RefreshReport()
    # One Fetcher for the run: its host pacing and robots.txt cache span every page.
    with _fetcher() as fetcher:
        for source_id, url in Source.objects.order_by("pk").values_list("pk", "url"):
            tick()
            try:
                fetched = source_refresh(source_id=source_id, fetcher=fetcher)
            except Exception as exc:  # noqa: BLE001 - report it, go on with the next page
                report.errors.append(f"{url}: {type(exc).__name__}: {exc}"[:ERROR_CHARS])
                continue
            if fetched:
                report.fetched += 1
            else:
                report.not_modified += 1
    return report
