"""Two tools named as one: "<a>-vs-<b>", in canonical order (slug A < slug B).

Comparison pages, pair votes and the API name a pair this way, and parse it here. Slugs may
themselves contain "-vs-", so a name is split at every separator and the first split that
names two tools wins.
"""

from typing import Protocol, TypeVar

from django.db.models import QuerySet

from shipwith.catalog.models import Tool

SEPARATOR = "-vs-"


class Slugged(Protocol):
    slug: str


S = TypeVar("S", bound=Slugged)


def canonical(a: S, b: S) -> tuple[S, S]:
    """The two in canonical order: the smaller slug first."""
    return (a, b) if a.slug < b.slug else (b, a)


def pair_slug(a: Slugged, b: Slugged) -> str:
    """The pair's name, "<a>-vs-<b>", in canonical order whichever order they are given in."""
    first, second = canonical(a, b)
    return f"{first.slug}{SEPARATOR}{second.slug}"


def pair_splits(text: str) -> list[tuple[str, str]]:
    """Every reading of `text` as two non-empty slugs around a separator, leftmost first."""
    splits = []
    start = text.find(SEPARATOR)
    while start != -1:
        left, right = text[:start], text[start + len(SEPARATOR) :]
        if left and right:
            splits.append((left, right))
        start = text.find(SEPARATOR, start + 1)
    return splits


def pair_resolve(text: str, tools: QuerySet[Tool] | None = None) -> tuple[Tool, Tool] | None:
    """The two tools `text` names, in the order it names them, in one query; None if none."""
    splits = pair_splits(text)
    if not splits:
        return None
    slugs = {slug for split in splits for slug in split}
    rows = Tool.objects.all() if tools is None else tools
    found = {tool.slug: tool for tool in rows.filter(slug__in=slugs)}
    for left, right in splits:
        if left in found and right in found and left != right:
            return found[left], found[right]
    return None
