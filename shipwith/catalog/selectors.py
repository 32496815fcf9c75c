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
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from shipwith.catalog.facts import FACTS, ORDER, STALE_AFTER, FactError, FactKey, Value
from shipwith.catalog.models import Fact, FactChange, Tool

# The keys whose changes are news (catalog.facts: a counter keeps no history).
NEWS_KEYS = [key for key, fact in FACTS.items() if not fact.counter]


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


def _readings(facts: QuerySet[Fact], now: dt.datetime | None) -> dict[int, dict[str, list]]:
    """{tool id: {key: [(reading, when its value changed)]}} of these rows, in one query."""
    stale_before = (now or timezone.now()) - STALE_AFTER
    found: dict[int, dict[str, list]] = {}
    rows = facts.values_list(
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
        found.setdefault(tool_id, {}).setdefault(key, []).append((reading, changed_at))
    return found


def facts_for_tools(
    tool_ids: Iterable[int], *, now: dt.datetime | None = None
) -> dict[int, list[FactRow]]:
    """Each tool's facts in the registry's order, in one query: {tool id: rows} (every id)."""
    ids = list(dict.fromkeys(tool_ids))
    found = _readings(Fact.objects.filter(tool_id__in=ids), now)
    return {
        tool_id: [
            _row(FACTS[key], readings)
            for key, readings in sorted(found.get(tool_id, {}).items(), key=lambda i: ORDER[i[0]])
        ]
        for tool_id in ids
    }


def key_facts(
    key: str, tools: QuerySet[Tool], *, now: dt.datetime | None = None
) -> dict[int, FactRow]:
    """One key's chosen row for each of these tools that has it, in one query (a list's sort)."""
    found = _readings(Fact.objects.filter(key=key, tool__in=tools.values("pk")), now)
    return {tool_id: _row(FACTS[key], by_key[key]) for tool_id, by_key in found.items()}


def tool_facts(tool_id: int, *, now: dt.datetime | None = None) -> list[FactRow]:
    """One tool's facts in the registry's order (see the module for the choice between sources)."""
    return facts_for_tools([tool_id], now=now)[tool_id]


def fact_history_row(change: FactChange) -> FactHistoryRow:
    """A FactChange row as pages show it (its key must be in the registry)."""
    fact = FACTS[change.key]
    return FactHistoryRow(
        key=change.key,
        label=fact.label,
        unit=fact.unit,
        old=_load(fact, change.old),
        new=_load(fact, change.new),
        source=_source(change.source_url, change.source_title),
        read_at=change.read_at,
    )


def fact_history(
    tool_id: int, *, limit: int | None = None, keys: Iterable[str] | None = None
) -> list[FactHistoryRow]:
    """A tool's fact changes (of these keys, or all), newest first, in one query."""
    known = list(FACTS) if keys is None else [key for key in keys if key in FACTS]
    changes = FactChange.objects.filter(tool_id=tool_id, key__in=known).order_by("-read_at", "-pk")
    if limit is not None:
        changes = changes[:limit]
    return [fact_history_row(change) for change in changes]


def fact_news() -> QuerySet[FactChange]:
    """Changes of a fact's value that are news: a source gave one value, then another.

    Not a source's first reading (nothing changed for readers), not one that stops giving a
    value (another source may still give it), never a counter (counters keep no history).
    """
    return (
        FactChange.objects.filter(key__in=NEWS_KEYS)
        .exclude(old="")
        .exclude(new="")
        .select_related("tool")
    )


def json_value(value: Value | None) -> float | int | bool | str | list[str] | None:
    """A value as JSON holds it: a number, true or false, text, a date as YYYY-MM-DD, a list."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _source_json(source: FactSource | None) -> dict | None:
    return {"url": source.url, "title": source.title} if source else None


def reading_json(reading: FactReading) -> dict:
    return {
        "value": json_value(reading.value),
        "text": reading.text,
        "source": _source_json(reading.source),
        "read_at": reading.read_at,
        "stale": reading.stale,
    }


def fact_json(row: FactRow) -> dict:
    """A fact as the API and `compare --json` give it (`read_at` stays a datetime)."""
    return {
        "key": row.key,
        "label": row.label,
        "value": json_value(row.value),
        "unit": row.unit,
        "text": row.text,
        "source": _source_json(row.source),
        "read_at": row.read_at,
        "stale": row.stale,
        "conflicts": [reading_json(reading) for reading in row.conflicts],
    }


def history_json(row: FactHistoryRow) -> dict:
    """A change as the API gives it: `old` is null for a source's first reading."""
    return {
        "key": row.key,
        "label": row.label,
        "old": json_value(row.old),
        "new": json_value(row.new),
        "text": row.text,
        "source": _source_json(row.source),
        "read_at": row.read_at,
    }
