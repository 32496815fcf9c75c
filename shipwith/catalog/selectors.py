"""Reads of tools' facts: each key's value with its source and date, what other sources say,
and the history of changes. One query however many tools or facts.

When sources disagree, the value a page shows is chosen by one rule (here, nowhere else):
1. a value read in the last 30 days beats a stale one;
2. then the value its source changed to most recently: the newest news wins, and the choice
   stays put while sources are merely re-read;
3. then the latest reading, then the source's URL, so the choice never depends on row order.
Each reading of another value is a conflict, shown with its source and date.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from shipwith.catalog.facts import FACTS, ORDER, STALE_AFTER, FactError, FactKey, Value
from shipwith.catalog.models import Fact, FactChange


@dataclass(frozen=True)
class FactSource:
    url: str
    title: str


@dataclass(frozen=True)
class FactReading:
    """One source's value of a key: `text` is how pages show it ("$0.15 per 1M tokens")."""

    value: Value
    text: str
    source: FactSource | None
    read_at: dt.datetime
    stale: bool


@dataclass(frozen=True)
class FactRow:
    """A key's chosen value with its source and date, and the readings that disagree."""

    key: str
    label: str
    unit: str
    value: Value
    text: str
    source: FactSource | None
    read_at: dt.datetime
    stale: bool
    conflicts: tuple[FactReading, ...]


@dataclass(frozen=True)
class FactHistoryRow:
    """A change of one source's value: None is "not given" (first reading, or no longer)."""

    key: str
    label: str
    unit: str
    old: Value | None
    new: Value | None
    source: FactSource | None
    read_at: dt.datetime

    @property
    def text(self) -> str:
        """ "$0.15 → $0.20 per 1M tokens"; the page adds the label and the date."""
        fact = FACTS[self.key]
        old = fact.type.display(self.old) if self.old is not None else "none"
        new = fact.display(self.new) if self.new is not None else "none"
        return f"{old} → {new}"


def _source(url: str, title: str) -> FactSource | None:
    return FactSource(url, title) if url or title else None


def _load(fact: FactKey, text: str) -> Value | None:
    """The stored text's value; None for "" (not given) or a text the registry no longer reads."""
    try:
        return fact.load(text) if text else None
    except FactError:
        return None


def _row(fact: FactKey, readings: list[tuple[FactReading, dt.datetime]]) -> FactRow:
    """Choose among one key's readings, each with when its value changed (the module's rule)."""
    readings.sort(
        key=lambda pair: (
            not pair[0].stale,
            pair[1],
            pair[0].read_at,
            pair[0].source.url if pair[0].source else "",
        ),
        reverse=True,
    )
    chosen = readings[0][0]
    return FactRow(
        key=fact.key,
        label=fact.label,
        unit=fact.unit,
        value=chosen.value,
        text=chosen.text,
        source=chosen.source,
        read_at=chosen.read_at,
        stale=chosen.stale,
        conflicts=tuple(r for r, _ in readings[1:] if r.value != chosen.value),
    )


def facts_for_tools(
    tool_ids: Iterable[int], *, now: dt.datetime | None = None
) -> dict[int, list[FactRow]]:
    """Each tool's facts in the registry's order, in one query: {tool id: rows} (every id)."""
    ids = list(dict.fromkeys(tool_ids))
    stale_before = (now or timezone.now()) - STALE_AFTER
    found: dict[int, dict[str, list]] = {tool_id: {} for tool_id in ids}
    rows = Fact.objects.filter(tool_id__in=ids).values_list(
        "tool_id", "key", "value", "source_url", "source_title", "read_at", "changed_at"
    )
    for tool_id, key, text, url, title, read_at, changed_at in rows.order_by():
        fact = FACTS.get(key)
        value = _load(fact, text) if fact else None
        if value is None:
            continue
        reading = FactReading(
            value=value,
            text=fact.display(value),
            source=_source(url, title),
            read_at=read_at,
            stale=read_at < stale_before,
        )
        found[tool_id].setdefault(key, []).append((reading, changed_at))
    return {
        tool_id: [
            _row(FACTS[key], readings)
            for key, readings in sorted(by_key.items(), key=lambda item: ORDER[item[0]])
        ]
        for tool_id, by_key in found.items()
    }


def tool_facts(tool_id: int, *, now: dt.datetime | None = None) -> list[FactRow]:
    """One tool's facts in the registry's order (see the module for the choice between sources)."""
    return facts_for_tools([tool_id], now=now)[tool_id]


def fact_history(tool_id: int, *, limit: int | None = None) -> list[FactHistoryRow]:
    """A tool's fact changes, newest first, in one query."""
    changes = FactChange.objects.filter(tool_id=tool_id, key__in=list(FACTS)).order_by(
        "-read_at", "-pk"
    )
    if limit is not None:
        changes = changes[:limit]
    return [
        FactHistoryRow(
            key=change.key,
            label=FACTS[change.key].label,
            unit=FACTS[change.key].unit,
            old=_load(FACTS[change.key], change.old),
            new=_load(FACTS[change.key], change.new),
            source=_source(change.source_url, change.source_title),
            read_at=change.read_at,
        )
        for change in changes
    ]
