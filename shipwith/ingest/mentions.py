"""A candidate's mentions (one per source and item), and what the candidate knows from them:
its facts, each from the latest mention that gives it, and its identifiers."""

from datetime import datetime

from shipwith.catalog.identifiers import tool_domain
from shipwith.ingest.items import Facts, Item, facts_renamed
from shipwith.ingest.models import Candidate, IngestSource, Mention


def facts_json(facts: Facts) -> dict:
    return facts.model_dump(mode="json", exclude_defaults=True)


def mention_put(
    candidate: Candidate, item: Item, source: IngestSource | None, source_name: str, now: datetime
) -> bool:
    """Create or refresh the mention of `item` on `candidate`; return whether it changed."""
    page = item.page
    values = {
        "source_id": source.pk if source else None,
        "url": item.url[:1000],
        "facts": facts_json(item.facts),
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


def mentions_merge(candidate: Candidate) -> None:
    """Recompute the candidate's facts: each from the latest mention that gives it."""
    merged: dict = {}
    origins: dict = {}
    tags: list[str] = []
    releases = []
    for mention in candidate.mentions.order_by("fetched_at", "pk"):
        for name, value in facts_renamed(mention.facts).items():
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
