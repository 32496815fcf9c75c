"""A candidate's mentions (one per source and item), and what the candidate knows from them:
its facts, each from the latest mention that gives it, and its identifiers."""

from datetime import datetime

from shipwith.catalog.facts import FACTS
from shipwith.catalog.identifiers import tool_domain
from shipwith.ingest.items import Facts, Item, facts_renamed
from shipwith.ingest.models import Candidate, IngestSource, Mention

# In a mention's facts: where its registry facts were read, when that is not its URL.
READ_FROM = "read_from"


def facts_json(facts: Facts) -> dict:
    return facts.model_dump(mode="json", exclude_defaults=True)


def mention_read_from(mention: Mention) -> str:
    """The URL the mention's registry facts were read from (Item.facts_url, else its URL)."""
    return mention.facts.get(READ_FROM) or mention.url


def _moved(old: dict, new: dict) -> bool:
    """Did the facts change in more than counters (stars, downloads), which move on every read?"""
    names = (old.keys() | new.keys()) - {key for key, fact in FACTS.items() if fact.counter}
    return any(old.get(name) != new.get(name) for name in names)


def mention_put(
    candidate: Candidate, item: Item, source: IngestSource | None, source_name: str, now: datetime
) -> bool:
    """Create or refresh the mention of `item` on `candidate`; return whether it changed in what
    the candidate is made of (a counter's move is stored, but changes nothing else)."""
    page = item.page
    facts = facts_json(item.facts)
    if item.facts_url and item.facts_url != item.url:
        facts[READ_FROM] = item.facts_url[:500]
    values = {
        "source_id": source.pk if source else None,
        "url": item.url[:1000],
        "facts": facts,
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
    moved = _moved(mention.facts, facts) or any(
        getattr(mention, name) != value for name, value in values.items() if name != "facts"
    )
    for name, value in values.items():
        setattr(mention, name, value)
    mention.fetched_at = page.fetched_at if page else now
    mention.save()
    return moved


def mentions_merge(candidate: Candidate) -> None:
    """Recompute the candidate's facts: each from the latest mention that gives it."""
    merged: dict = {}
    origins: dict = {}
    tags: list[str] = []
    releases = []
    for mention in candidate.mentions.order_by("fetched_at", "pk"):
        for name, value in facts_renamed(mention.facts).items():
            if name == READ_FROM:
                continue
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


def candidate_identify(candidate: Candidate, item: Item) -> None:
    """Give the candidate the identifiers, homepage domain and vendor it lacks and the item has."""
    ids = item.identifiers
    candidate.huggingface_id = candidate.huggingface_id or (ids.huggingface or "").lower()[:200]
    candidate.openrouter_slug = candidate.openrouter_slug or (ids.openrouter or "").lower()[:200]
    candidate.github_repo = candidate.github_repo or (ids.github or "").lower()[:140]
    # Only a site's root names one tool ("ollama.com", not "openai.com/index/…").
    candidate.homepage_domain = candidate.homepage_domain or tool_domain(item.facts.homepage)
    candidate.vendor = candidate.vendor or (item.vendor or "")[:120]
