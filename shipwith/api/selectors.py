"""Reads behind the API: the pages' own selectors, in a fixed number of queries per request."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from django.db.models import Q, QuerySet, Subquery

from shipwith.api.models import ApiToken
from shipwith.api.services import token_digest
from shipwith.catalog.models import Category, Source, Tool
from shipwith.catalog.pairs import pair_resolve, pair_splits
from shipwith.catalog.selectors import FactHistoryRow, fact_history_row, fact_news
from shipwith.comparisons.models import Comparison
from shipwith.comparisons.pick import Pick, Side, pick, split_rows
from shipwith.panel.models import Review
from shipwith.panel.selectors import tools_with_panel
from shipwith.votes.models import Rating, RatingFit
from shipwith.votes.selectors import leaderboard
from shipwith.web.selectors import (
    Card,
    active_personas,
    cards,
    categories_with_counts,
    search_condition,
)


def api_token_for(raw: str) -> ApiToken | None:
    """The active token whose secret is `raw`, or None."""
    return ApiToken.objects.active().filter(digest=token_digest(raw)).first()


T = TypeVar("T")


@dataclass
class Listing(Generic[T]):
    """One page of a list: its items, how many match in all, and the key to ask for next."""

    items: list[T]
    count: int
    next_after: str | None


@dataclass(frozen=True)
class ToolFilters:
    category: str | None = None
    licence_kind: str | None = None
    deployment: str | None = None
    price_kind: str | None = None
    panel: str | None = None
    q: str | None = None


def _tools_matching(filters: ToolFilters) -> QuerySet[Tool]:
    tools = Tool.objects.all()
    if filters.category:
        tools = tools.filter(category__slug=filters.category)
    for name in ("licence_kind", "deployment", "price_kind"):
        if value := getattr(filters, name):
            tools = tools.filter(**{name: value})
    if filters.q and (condition := search_condition(filters.q)) is not None:
        # A subquery rather than a join: a match on several tags must not repeat the tool.
        tools = tools.filter(pk__in=Subquery(Tool.objects.filter(condition).values("pk")))
    if filters.panel:
        tools = tools_with_panel(tools, filters.panel)
    return tools


def tools_listing(filters: ToolFilters, *, after: str | None, limit: int) -> Listing[Card]:
    """Tools as cards in slug order (stable under edits), `limit` after the slug `after`."""
    tools = _tools_matching(filters)
    count = tools.count()
    if after:
        tools = tools.filter(slug__gt=after)
    page = list(
        tools.select_related("category", "vendor")
        .prefetch_related("tags")
        .order_by("slug")[: limit + 1]
    )
    more = len(page) > limit
    page = page[:limit]
    return Listing(cards(page), count, page[-1].slug if more else None)


@dataclass
class ComparisonItem:
    comparison: Comparison
    a: Card
    b: Card
    pick: Pick


def _cursor_slugs(after: str) -> tuple[str, str]:
    """The two slugs of the last "a-vs-b" seen (a pair since deleted: its first reading)."""
    if found := pair_resolve(after):
        return found[0].slug, found[1].slug
    splits = pair_splits(after)
    return splits[0] if splits else (after, "")


def comparisons_listing(
    *, tool: str | None, category: str | None, after: str | None, limit: int
) -> Listing[ComparisonItem]:
    """Published comparisons in "a-vs-b" order, each with both cards and the pick."""
    comparisons = Comparison.objects.published()
    if tool:
        comparisons = comparisons.filter(Q(tool_a__slug=tool) | Q(tool_b__slug=tool))
    if category:
        comparisons = comparisons.filter(tool_a__category__slug=category)
    count = comparisons.count()
    if after:
        a, b = _cursor_slugs(after)
        comparisons = comparisons.filter(
            Q(tool_a__slug__gt=a) | Q(tool_a__slug=a, tool_b__slug__gt=b)
        )
    page = list(
        comparisons.select_related(
            "tool_a__category", "tool_a__vendor", "tool_b__category", "tool_b__vendor"
        )
        .prefetch_related("tool_a__tags", "tool_b__tags")
        .order_by("tool_a__slug", "tool_b__slug")[: limit + 1]
    )
    more = len(page) > limit
    page = page[:limit]
    tools = {c.tool_a_id: c.tool_a for c in page} | {c.tool_b_id: c.tool_b for c in page}
    by_id = {card.tool.pk: card for card in cards(list(tools.values()))}
    personas = active_personas()
    items = []
    for comparison in page:
        a, b = by_id[comparison.tool_a_id], by_id[comparison.tool_b_id]
        rows = split_rows(personas, a.panel, b.panel)
        verdict = pick(Side(a.tool, a.panel, a.community), Side(b.tool, b.panel, b.community), rows)
        items.append(ComparisonItem(comparison, a, b, verdict))
    return Listing(items, count, page[-1].slug if more else None)


def categories() -> list[Category]:
    return categories_with_counts()


@dataclass
class Leaderboard:
    fit: RatingFit | None
    ratings: list[Rating]
    count: int
    next_after: str | None
    by_category: bool


def leaderboard_listing(*, category: str | None, after: int | None, limit: int) -> Leaderboard:
    """The latest Bradley-Terry fit's ratings by rank (within a category when given)."""
    category_obj = Category.objects.filter(slug=category).first() if category else None
    if category and category_obj is None:
        return Leaderboard(None, [], 0, None, True)
    fit, ratings = leaderboard(category_obj)
    rank = "category_rank" if category_obj else "rank"
    count = ratings.count() if fit else 0
    if after is not None:
        ratings = ratings.filter(**{f"{rank}__gt": after})
    page = list(ratings[: limit + 1]) if fit else []
    more = len(page) > limit
    page = page[:limit]
    next_after = str(getattr(page[-1], rank)) if more else None
    return Leaderboard(fit, page, count, next_after, category_obj is not None)


def quote_sources(reviews: Iterable[Review]) -> dict[int, Source]:
    """The sources the reviews' quotes were found in, by id: one query, whatever their number."""
    ids = {source_id for review in reviews for _, source_id in review.evidence}
    ids.discard(None)
    # Not the snapshot: the page's whole text is no part of a quote's link.
    return Source.objects.only("url", "title", "checked_on").in_bulk(ids) if ids else {}


@dataclass
class Change:
    """One thing an agent polling for news should hear about."""

    kind: str  # "tool", "review", "verdict_flip" or "fact_change"
    at: datetime
    key: int  # the row's id: with `at` and `kind`, a stable order across pages
    tool: Tool
    review: Review | None = None
    fact: FactHistoryRow | None = None


# The kinds of row the stream merges, in their order at one moment (a cursor names one).
KIND_ORDER = {"tool": 0, "review": 1, "fact": 2}
CURSOR_KIND = {"tool": "tool", "review": "review", "verdict_flip": "review", "fact_change": "fact"}


@dataclass
class Changes:
    items: list[Change] = field(default_factory=list)
    next_after: str | None = None
    sources: dict[int, Source] = field(default_factory=dict)  # where the reviews' quotes are


def _after(at: datetime, kind: str, key: int, mine: str, field: str = "created_at") -> Q:
    """Rows of kind `mine` that come after the cursor (at, kind, key) in the stream's order."""
    later = Q(**{f"{field}__gt": at})
    if KIND_ORDER[mine] > KIND_ORDER[kind]:
        return later | Q(**{field: at})
    if mine == kind:
        return later | Q(**{field: at, "pk__gt": key})
    return later


def changes_since(
    since: datetime, *, after: tuple[datetime, str, int] | None, limit: int
) -> Changes:
    """New tools, new reviews (a flip marked as such) and changed facts from `since` on, oldest
    first; a fact change is dated when its source was read saying the new value."""
    tools = Tool.objects.filter(created_at__gte=since)
    reviews = Review.objects.filter(created_at__gte=since)
    facts = fact_news().filter(read_at__gte=since)
    if after:
        tools = tools.filter(_after(*after, "tool"))
        reviews = reviews.filter(_after(*after, "review"))
        facts = facts.filter(_after(*after, "fact", field="read_at"))
    new_tools = list(
        tools.select_related("category", "vendor").order_by("created_at", "pk")[: limit + 1]
    )
    new_reviews = list(
        reviews.select_related("tool__category", "tool__vendor", "persona").order_by(
            "created_at", "pk"
        )[: limit + 1]
    )
    new_facts = list(facts.order_by("read_at", "pk")[: limit + 1])
    stream = (
        [Change("tool", t.created_at, t.pk, t) for t in new_tools]
        + [
            Change("verdict_flip" if r.flipped else "review", r.created_at, r.pk, r.tool, r)
            for r in new_reviews
        ]
        + [
            Change("fact_change", f.read_at, f.pk, f.tool, fact=fact_history_row(f))
            for f in new_facts
        ]
    )
    stream.sort(key=lambda c: (c.at, KIND_ORDER[CURSOR_KIND[c.kind]], c.key))
    more = len(stream) > limit
    items = stream[:limit]
    sources = quote_sources(change.review for change in items if change.review)
    if not more:
        return Changes(items, None, sources)
    last = items[-1]
    return Changes(items, f"{last.at.isoformat()}|{CURSOR_KIND[last.kind]}|{last.key}", sources)
