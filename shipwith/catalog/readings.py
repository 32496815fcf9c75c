"""Write what a source says about a tool's facts: `facts_record`, the one writer of Fact.

A reading is one source's value of one key at one time. Each (tool, key, source) has one
current Fact row; a value that differs from it is a change, kept in FactChange in the same
transaction. A reading of the same value only moves `read_at`. A reading older than the one
held is ignored (a slow worker must not put back what a newer reading replaced).

Writers of one tool take turns on the tool's row, so two readings of one source never write
two histories of one change; the unique constraint and the upsert keep one row whatever else
writes.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from shipwith.catalog.facts import FactError, FactKey, Value, fact_key
from shipwith.catalog.models import Fact, FactChange, Tool
from shipwith.core.freshness import tools_touch

# A reading dated a little ahead is a clock's skew; further ahead it is a mistake.
CLOCK_SKEW = dt.timedelta(days=1)


def _day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


@dataclass(frozen=True)
class FactChanged:
    """A key whose value this source gives changed: None is "not given"."""

    key: str
    old: Value | None
    new: Value | None


def _source_check(source_url: str, read_at: dt.datetime) -> None:
    if source_url:
        try:
            URLValidator(schemes=["http", "https"])(source_url)
        except ValidationError:
            raise FactError(f"source {source_url!r} is not an http(s) URL") from None
        if len(source_url) > Fact._meta.get_field("source_url").max_length:
            raise FactError(f"source {source_url[:60]!r}… is longer than 500 characters")
    if timezone.is_naive(read_at):
        raise FactError(f"read_at {read_at} has no time zone")
    if read_at > timezone.now() + CLOCK_SKEW:
        raise FactError(f"read_at {read_at:%Y-%m-%d %H:%M} is in the future")


def _typed(fact: FactKey, text: str | None) -> Value | None:
    """The stored text's value; a text the registry no longer reads stays text."""
    if text is None:
        return None
    try:
        return fact.load(text)
    except FactError:
        return text


def _parsed(values: Mapping[str, object]) -> dict[str, tuple[FactKey, str | None]]:
    """Each key's registry entry and the text it stores (None: the source no longer gives it)."""
    parsed = {}
    for key, raw in values.items():
        fact = fact_key(key)
        parsed[key] = (fact, None if raw is None else fact.dump(fact.parse(raw)))
    return parsed


def facts_record(
    *,
    tool_id: int,
    source_url: str,
    source_title: str = "",
    read_at: dt.datetime,
    values: Mapping[str, object],
) -> list[FactChanged]:
    """Record what `source_url` said at `read_at`: {key: raw value, or None if it says none}.

    Every value is checked before anything is written (FactError names key and value). Return
    the keys whose value changed, typed; a tool's pages are touched when what they show moved.
    """
    _source_check(source_url, read_at)
    parsed = _parsed(values)
    source_title = source_title.strip()[:200]
    changed: list[FactChanged] = []
    with transaction.atomic():
        if not Tool.objects.select_for_update().filter(pk=tool_id).exists():
            raise Tool.DoesNotExist(f"no tool {tool_id}")
        held = {
            row.key: row
            for row in Fact.objects.filter(tool_id=tool_id, source_url=source_url, key__in=parsed)
        }
        upserts, gone, history = [], [], []
        lists = shown = False
        for key, (fact, text) in parsed.items():
            row = held.get(key)
            if row is not None and read_at < row.read_at:
                continue  # this source said otherwise since
            old = row.value if row is not None else None
            if old != text:
                changed.append(FactChanged(key, _typed(fact, old), _typed(fact, text)))
                lists |= not fact.counter
                if not fact.counter:
                    history.append(
                        FactChange(
                            tool_id=tool_id,
                            key=key,
                            old=old or "",
                            new=text or "",
                            source_url=source_url,
                            source_title=source_title,
                            read_at=read_at,
                        )
                    )
            elif row is not None:
                if row.read_at == read_at and row.source_title == source_title:
                    continue  # this very reading again
                # Pages show the day a fact was read and its source, not the time of day.
                shown |= row.source_title != source_title or _day(row.read_at) != _day(read_at)
            if text is None:
                gone += [row.pk] if row is not None else []
                continue
            upserts.append(
                Fact(
                    tool_id=tool_id,
                    key=key,
                    value=text,
                    source_url=source_url,
                    source_title=source_title,
                    read_at=read_at,
                    changed_at=read_at if old != text else row.changed_at,
                )
            )
        shown |= bool(changed)
        Fact.objects.bulk_create(
            upserts,
            update_conflicts=True,
            unique_fields=["tool", "key", "source_url"],
            update_fields=["value", "source_title", "read_at", "changed_at"],
        )
        Fact.objects.filter(pk__in=gone).delete()
        FactChange.objects.bulk_create(history)
        if shown:
            tools_touch(tool_id, lists=lists)
    return changed
