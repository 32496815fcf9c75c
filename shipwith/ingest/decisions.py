"""An editor's decisions (or a trusted source's): accept a candidate into the catalog, or
reject it for good. Accepting records the facts its sources read (readings.py): all of them for
a new tool, the changed ones (`fact:KEY`) for an update."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from shipwith.catalog.facts import FACTS
from shipwith.catalog.files import slugify
from shipwith.catalog.models import (
    Category,
    FactChange,
    PriceChange,
    PriceKind,
    Source,
    Tag,
    Tool,
    Vendor,
)
from shipwith.core.freshness import tools_touch
from shipwith.core.text import plain_text
from shipwith.ingest import normalise
from shipwith.ingest.candidates import candidate_changes
from shipwith.ingest.changes import (
    INPUT_PRICE,
    LICENCE,
    LICENCE_KIND,
    MATERIAL,
    PRICE,
    PRICE_UNIT,
    fact_changed,
    facts_text,
    money,
)
from shipwith.ingest.errors import IngestError
from shipwith.ingest.items import facts_renamed
from shipwith.ingest.models import PROPOSED_TOOLS, Candidate, Mention, Status
from shipwith.ingest.readings import fact_proposals, new_tool_readings_record, proposals_record
from shipwith.panel.tasks import panel_run_enqueue

ENTRY_PRICE_FACT = "input_price_per_mtok"  # the entry price "$X per 1M input tokens" is one


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
    facts = facts_renamed(candidate.facts)
    price = money(facts.get(INPUT_PRICE))
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
    new_tool_readings_record(tool, candidate)
    return tool


def _where(candidate: Candidate, fact: str) -> str:
    origins = facts_renamed(candidate.fact_mentions)  # merged before facts were renamed
    mention = Mention.objects.filter(pk=origins.get(fact)).first()
    return f"{mention.source_name} {mention.url}"[:500] if mention else ""


def _entry_price_history(candidate: Candidate, tool: Tool, old: Decimal, new: Decimal, now):
    """The entry price per 1M input tokens changed: kept in the fact history the pages show,
    as migration catalog 0006 kept the PriceChange rows before it (the key's one history)."""
    fact = FACTS[ENTRY_PRICE_FACT]
    origins = facts_renamed(candidate.fact_mentions)
    mention = Mention.objects.filter(pk=origins.get(INPUT_PRICE)).first()
    FactChange.objects.create(
        tool=tool,
        key=ENTRY_PRICE_FACT,
        old=fact.dump(fact.parse(old)),
        new=fact.dump(fact.parse(new)),
        source_url=mention.url[:500] if mention else "",
        source_title=mention.source_name[:200] if mention else "",
        read_at=now,
    )


def _tool_update(candidate: Candidate, tool: Tool, now) -> bool:
    """Apply the candidate's changes; return whether one of them is material (re-review)."""
    current = candidate_changes(tool, candidate)
    for name, (old, new) in candidate.changes.items():
        if name not in current or current[name][0] != old:
            stale = f"the tool's {name} is no longer {old!r}"
        elif fact_changed(name) and current[name][1] != new:
            # A reading is recorded as its source said it: the one proposed, or none.
            stale = f"its source no longer says {name} is {new!r}"
        else:
            continue
        raise IngestError(
            f"candidate {candidate.pk} ({candidate.name}): {stale}; run ingest again to propose "
            "the change afresh"
        )
    changes = candidate.changes
    accepted = {key: new for name, (_, new) in changes.items() if (key := fact_changed(name))}
    if accepted:
        proposals_record(tool, fact_proposals(tool, candidate), accepted)
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
            source=_where(candidate, INPUT_PRICE),
        )
        per_input_mtok = (tool.price_unit or PRICE_UNIT) == PRICE_UNIT
        # A source's own reading of the key (fact:KEY) writes its history: not twice.
        if old is not None and per_input_mtok and f"fact:{ENTRY_PRICE_FACT}" not in changes:
            _entry_price_history(candidate, tool, Decimal(old), amount, now)
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
    """Accept in one transaction: a new tool (sources dated, facts recorded, panel queued) or an
    update (applied, changed facts recorded with their history, a re-review queued for a
    price or licence change)."""
    now = timezone.now()
    with transaction.atomic():
        candidate = _locked_open(candidate_id)
        if candidate.status == Status.DUPLICATE:
            raise IngestError(
                f"candidate {candidate_id} ({candidate.name}) is already in the catalog as "
                f"'{candidate.tool.slug}' with nothing changed: nothing to accept"
            )
        if candidate.status in PROPOSED_TOOLS:  # new, or from a source's back catalog
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
