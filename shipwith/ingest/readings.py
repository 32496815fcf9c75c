"""What sources read of a tool's facts (the registry's keys, catalog/facts.py), and when it is
recorded with its source (`catalog.readings.facts_record`, which keeps the history).

A reading is one source's value of one key, kept under the URL it was read from: two sources
that disagree are both kept, and the pages show the disagreement (catalog.selectors).

- **A new tool**: every mention's readings are recorded when the candidate is accepted, each
  dated the day its source was fetched.
- **A known tool**, read by a source that may publish on its own (every kind but Hacker News):
  a key this source gives for the first time, or gives again unchanged, is recorded at once. A
  reading is provenance, not a catalog decision: "OpenRouter said $10 on 1 Dec" is true whatever
  an editor decides. Counters (stars, downloads) are always recorded: they keep no history.
- A value that **differs from what the same source said before** is a change: proposed on the
  tool's update candidate as `fact:KEY: [old, new]` (changes.py), recorded when it is accepted
  (at once when the source autopublishes), then shown as history ("$10 → $12").
- Hacker News posts and hand submissions give no readings of a known tool: anyone can post
  there. Their facts count only for a new tool an editor accepts.
"""

import datetime as dt
from dataclasses import dataclass

from shipwith.catalog.facts import FACTS, ORDER, FactError
from shipwith.catalog.models import Fact, Tool
from shipwith.catalog.readings import facts_record
from shipwith.ingest.changes import FACT
from shipwith.ingest.errors import IngestError
from shipwith.ingest.items import Item, facts_renamed
from shipwith.ingest.mentions import facts_json, mention_read_from
from shipwith.ingest.models import NEVER_AUTOPUBLISH, Candidate, IngestSource, Kind, Mention


def source_trusted(source: IngestSource | None) -> bool:
    """May this source's readings of a known tool be recorded without an editor?"""
    return source is not None and source.kind not in NEVER_AUTOPUBLISH


def source_title(source: IngestSource | None, name: str) -> str:
    """How pages name where a fact was read: the kind ("OpenRouter model list"), or for a feed
    (any site at all) the source's own name."""
    if source is None or source.kind == Kind.FEED:
        return name
    return source.get_kind_display()


def _texts(facts: dict) -> dict[str, str]:
    """The registry's facts among a mention's (JSON), as the registry stores them; a value it
    refuses is no reading (adapters refuse it first, as the item's problem)."""
    texts = {}
    for key, value in facts_renamed(facts).items():
        fact = FACTS.get(key)
        if fact is None or value is None:
            continue
        try:
            texts[key] = fact.dump(fact.parse(value))
        except FactError:
            continue
    return texts


def _in_order(changes: dict[str, list]) -> dict[str, list]:
    return {FACT + key: changes[key] for key in sorted(changes, key=ORDER.__getitem__)}


def item_readings(
    *, tool: Tool, item: Item, source: IngestSource | None, now: dt.datetime
) -> dict[str, list]:
    """Record what a trusted source's item newly or again says of a known tool's facts; return
    what it says otherwise than before, as `{"fact:KEY": [old, new]}` (nothing recorded)."""
    if not source_trusted(source):
        return {}
    url = item.facts_url or item.url
    texts = _texts(facts_json(item.facts))
    said = Fact.objects.filter(tool=tool, source_url=url, key__in=list(texts))
    held = dict(said.values_list("key", "value"))
    again = {k: v for k, v in texts.items() if FACTS[k].counter or held.get(k, v) == v}
    if again:
        facts_record(
            tool_id=tool.pk,
            source_url=url,
            source_title=source_title(source, source.name),
            read_at=now,
            values=again,
        )
    return _in_order({k: [held[k], v] for k, v in texts.items() if k not in again})


@dataclass(frozen=True)
class Proposal:
    """A changed reading: what `mention`'s source said (`old`) and says now (`new`)."""

    mention: Mention
    old: str
    new: str


def fact_proposals(tool: Tool, candidate: Candidate) -> dict[str, Proposal]:
    """The changed readings the candidate's trusted mentions carry, by key: for each key, the
    newest mention's that differs from what its own source said before."""
    if candidate.pk is None:
        return {}
    mentions = [
        mention
        for mention in candidate.mentions.select_related("source").order_by("-fetched_at", "-pk")
        if source_trusted(mention.source)
    ]
    urls = {mention.pk: mention_read_from(mention) for mention in mentions}
    held = {
        (key, url): value
        for key, url, value in Fact.objects.filter(
            tool=tool, source_url__in=set(urls.values())
        ).values_list("key", "source_url", "value")
    }
    proposals: dict[str, Proposal] = {}
    for mention in mentions:
        for key, new in _texts(mention.facts).items():
            old = held.get((key, urls[mention.pk]))
            if key in proposals or FACTS[key].counter or old in (None, new):
                continue
            proposals[key] = Proposal(mention, old, new)
    return {key: proposals[key] for key in sorted(proposals, key=ORDER.__getitem__)}


def fact_changes(proposals: dict[str, Proposal]) -> dict[str, list]:
    """`{"fact:KEY": [old, new]}` for the candidate's `changes`, in the registry's order."""
    return _in_order({key: [p.old, p.new] for key, p in proposals.items()})


def _record(tool: Tool, mention: Mention, values: dict[str, str]) -> list:
    try:
        return facts_record(
            tool_id=tool.pk,
            source_url=mention_read_from(mention),
            source_title=source_title(mention.source, mention.source_name),
            read_at=mention.fetched_at,
            values=values,
        )
    except FactError as exc:
        raise IngestError(
            f"candidate {mention.candidate_id}: {exc} (read from {mention.source_name})"
        ) from None


def proposals_record(tool: Tool, proposals: dict[str, Proposal], accepted: dict[str, str]) -> None:
    """Record the accepted changes `{key: new}`, each as its proposal's source read it."""
    by_mention: dict[Mention, dict[str, str]] = {}
    for key, new in accepted.items():
        by_mention.setdefault(proposals[key].mention, {})[key] = new
    for mention, values in by_mention.items():
        changed = {change.key for change in _record(tool, mention, values)}
        if changed != set(values):
            raise IngestError(
                f"candidate {mention.candidate_id}: {mention.source_name} has said otherwise "
                f"since about {', '.join(sorted(set(values) - changed))}; run ingest again to "
                "propose the change afresh"
            )


def new_tool_readings_record(tool: Tool, candidate: Candidate) -> None:
    """Record every mention's readings of a tool just created from the candidate."""
    for mention in candidate.mentions.select_related("source").order_by("fetched_at", "pk"):
        if values := _texts(mention.facts):
            _record(tool, mention, values)
