"""The read endpoints: thin views over the selectors, served from the page cache when fresh."""

from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponsePermanentRedirect
from django.urls import reverse
from ninja import Path, Query, Router
from ninja.decorators import decorate_view
from pydantic import Field

from shipwith.api import converters, schemas
from shipwith.api import selectors as api_selectors
from shipwith.api.errors import error_response
from shipwith.catalog.facts import FACTS
from shipwith.catalog.models import Category
from shipwith.catalog.pairs import canonical, pair_slug
from shipwith.catalog.selectors import fact_history
from shipwith.comparisons.pick import RULE
from shipwith.web import selectors
from shipwith.web.caching import (
    AGES_KEPT,
    freshness_cached,
    page_depends,
    page_expires,
    page_shows,
)

router = Router(tags=["read"])

# What every read may answer besides its 200 (schemathesis checks each status is listed).
READ_ERRORS = {304: None, 404: schemas.Error, 422: schemas.Error, 429: schemas.Error}
MAX_LIMIT = 100
SLUG = r"^[-a-zA-Z0-9_]+$"  # what a catalog slug may hold; anything else cannot match
TEXT = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL


def absolute(path: str) -> str:
    return settings.SHIPWITH_BASE_URL + path


def _next(request: HttpRequest, after: str | None) -> str | None:
    """The URL of the next page: the same query with `after` moved on."""
    if after is None:
        return None
    query = [(k, v) for k, v in request.GET.items() if k != "after"] + [("after", after)]
    return absolute(f"{request.path}?{urlencode(query)}")


class Invalid(Exception):
    """Bad input the schema cannot see (an unknown category): 422 naming where."""

    def __init__(self, where: str, message: str):
        super().__init__(message)
        self.where = where
        self.message = message


def _category(slug: str | None) -> None:
    if slug and not Category.objects.filter(slug=slug).exists():
        raise Invalid("query.category", f"No category {slug!r}: see /api/v1/categories.")


class ToolQuery(schemas.Schema):
    category: str | None = Field(None, max_length=80, pattern=SLUG, description="A category slug.")
    licence_kind: schemas.LicenceKind | None = None
    deployment: schemas.Deployment | None = None
    price_kind: schemas.PriceKind | None = Field(None, description="The entry price's kind.")
    panel: schemas.PanelState | None = Field(
        None,
        description="ship/skip: a verdict (a complete panel, no draft) where most reviewers "
        "ship/skip; split: a tie; incomplete: a reviewer is missing; draft: a take is by the "
        "embedded model.",
    )
    q: str | None = Field(
        None, max_length=200, pattern=TEXT, description="Words that must all match."
    )
    after: str | None = Field(None, max_length=120, pattern=SLUG, description="The last slug seen.")
    limit: int = Field(20, ge=1, le=MAX_LIMIT)


@router.get("/tools", response={200: schemas.ToolList, **READ_ERRORS}, summary="Tools with figures")
@decorate_view(freshness_cached)
def tools(request: HttpRequest, query: Query[ToolQuery]):
    """Tools in slug order with their card figures: panel ship, community share, entry price."""
    _category(query.category)
    filters = api_selectors.ToolFilters(
        category=query.category,
        licence_kind=query.licence_kind,
        deployment=query.deployment,
        price_kind=query.price_kind,
        panel=query.panel,
        q=query.q,
    )
    listing = api_selectors.tools_listing(filters, after=query.after, limit=query.limit)
    page_shows(request, *[card.tool.pk for card in listing.items])
    return {
        "count": listing.count,
        "next": _next(request, listing.next_after),
        "items": [converters.tool_card(card, absolute) for card in listing.items],
    }


def _comparison_urls(page: selectors.ToolPage) -> list[str]:
    return [absolute(reverse("api-1:comparison", args=[c.slug])) for c in page.comparisons]


@router.get("/tools/{slug}", response={200: schemas.ToolDetail, **READ_ERRORS}, summary="One tool")
@decorate_view(freshness_cached)
def tool(request: HttpRequest, slug: str = Path(..., max_length=120, pattern=SLUG)):
    """The card, the current reviews with their evidence, earlier verdicts, tiers, sources and
    facts, each with its source and date."""
    tool_id = selectors.tool_id(slug)
    if tool_id is None:
        raise Http404(f"No tool {slug!r}.")
    page_depends(request, tool_id)
    page_expires(request, AGES_KEPT)  # a fact's `stale` turns with time alone
    page = selectors.tool_page(slug)
    if page is None:
        raise Http404(f"No tool {slug!r}.")
    tool = page.card.tool
    sources = {row.pk: row for row in tool.sources.all()}  # prefetched: no query
    return {
        **converters.tool_card(page.card, absolute),
        "reviews": [converters.review(row, sources) for row in page.card.panel.reviews],
        "verdict_history": [converters.review(row, sources) for row in page.history],
        "tiers": [converters.tier(row) for row in tool.tiers.all()],
        "sources": [converters.source(row) for row in tool.sources.all()],
        "price_history": converters.price_history(page.fact_changes),
        "comparisons": _comparison_urls(page),
        "facts": converters.facts(page.facts),
    }


class FactHistoryQuery(schemas.Schema):
    key: str | None = Field(
        None,
        max_length=40,
        pattern=SLUG,
        description='Only this key, e.g. "output_price_per_mtok".',
    )
    limit: int = Field(100, ge=1, le=500, description="The newest this many changes.")


@router.get(
    "/tools/{slug}/facts/history",
    response={200: list[schemas.FactChangeOut], **READ_ERRORS},
    summary="A tool's fact changes",
)
@decorate_view(freshness_cached)
def fact_changes(
    request: HttpRequest,
    query: Query[FactHistoryQuery],
    slug: str = Path(..., max_length=120, pattern=SLUG),
):
    """Each source's changes of the tool's facts, newest first: a first reading has `old` null."""
    if query.key is not None and query.key not in FACTS:
        raise Invalid("query.key", f"No fact {query.key!r}: one of {', '.join(FACTS)}.")
    tool_id = selectors.tool_id(slug)
    if tool_id is None:
        raise Http404(f"No tool {slug!r}.")
    page_depends(request, tool_id)
    keys = None if query.key is None else [query.key]
    rows = fact_history(tool_id, limit=query.limit, keys=keys)
    return [converters.fact_change(row) for row in rows]


class ComparisonQuery(schemas.Schema):
    tool: str | None = Field(
        None, max_length=120, pattern=SLUG, description="Only pairs with this tool."
    )
    category: str | None = Field(None, max_length=80, pattern=SLUG)
    after: str | None = Field(
        None, max_length=250, pattern=SLUG, description='The last "a-vs-b" seen.'
    )
    limit: int = Field(20, ge=1, le=MAX_LIMIT)


@router.get(
    "/comparisons",
    response={200: schemas.ComparisonList, **READ_ERRORS},
    summary="Published comparisons",
)
@decorate_view(freshness_cached)
def comparisons(request: HttpRequest, query: Query[ComparisonQuery]):
    """Published pairs in "a-vs-b" order, each with both cards and the pick."""
    _category(query.category)
    listing = api_selectors.comparisons_listing(
        tool=query.tool, category=query.category, after=query.after, limit=query.limit
    )
    page_shows(request, *[card.tool.pk for item in listing.items for card in (item.a, item.b)])
    return {
        "count": listing.count,
        "next": _next(request, listing.next_after),
        "items": [
            {
                "slug": item.comparison.slug,
                "a": converters.tool_card(item.a, absolute),
                "b": converters.tool_card(item.b, absolute),
                "pick": converters.pick_out(item.pick),
                "published_at": item.comparison.published_at,
                "url": absolute(item.comparison.get_absolute_url()),
            }
            for item in listing.items
        ],
    }


@router.get(
    "/comparisons/{pair}",
    response={200: schemas.ComparisonDetail, 301: None, **READ_ERRORS},
    url_name="comparison",
    summary="Two tools side by side",
)
@decorate_view(freshness_cached)
def comparison(request: HttpRequest, pair: str = Path(..., max_length=250, pattern=SLUG)):
    """Both panels, the pricing read, the reviewer split and the pick; B-vs-A redirects."""
    found = selectors.pair_tools(pair)
    if found is None:
        raise Http404(f"No pair of tools {pair!r}: use /comparisons/<a>-vs-<b>.")
    a, b = canonical(*found)
    if (a, b) != found:
        return HttpResponsePermanentRedirect(reverse("api-1:comparison", args=[pair_slug(a, b)]))
    page_depends(request, a.pk, b.pk)
    page_expires(request, AGES_KEPT)
    page = selectors.comparison_page(a, b)
    sources = api_selectors.quote_sources(page.a.panel.reviews + page.b.panel.reviews)
    return converters.comparison_detail(page, RULE, absolute, sources)


@router.get("/categories", response={200: list[schemas.CategoryOut], **READ_ERRORS})
@decorate_view(freshness_cached)
def categories(request: HttpRequest):
    """Every category with its number of tools."""
    return [
        {
            "slug": row.slug,
            "name": row.name,
            "description": row.description,
            "tools": row.tool_count,
            "url": absolute(row.get_absolute_url()),
        }
        for row in api_selectors.categories()
    ]


class LeaderboardQuery(schemas.Schema):
    category: str | None = Field(
        None, max_length=80, pattern=SLUG, description="Rank within a category."
    )
    after: int | None = Field(None, ge=0, le=2**31, description="The last rank seen.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


@router.get("/leaderboard", response={200: schemas.LeaderboardOut, **READ_ERRORS})
@decorate_view(freshness_cached)
def leaderboard(request: HttpRequest, query: Query[LeaderboardQuery]):
    """Bradley-Terry ratings from readers' head-to-head votes, with 95% intervals and ranks."""
    _category(query.category)
    board = api_selectors.leaderboard_listing(
        category=query.category, after=query.after, limit=query.limit
    )
    fit = board.fit
    page_shows(request, *[row.tool.pk for row in board.ratings])
    return {
        "count": board.count,
        "next": _next(request, board.next_after),
        "fit": fit
        and {
            "fitted_at": fit.fitted_at,
            "votes": fit.votes,
            "tools": fit.tools,
            "bootstrap_rounds": fit.rounds,
        },
        "items": [
            {
                "rank": row.rank,
                "category_rank": row.category_rank,
                "tool": converters.named(row.tool),
                "category": converters.named(row.tool.category),
                "score": row.score,
                "lower": row.lower,
                "upper": row.upper,
                "votes": row.votes,
            }
            for row in board.ratings
        ],
    }


class ChangesQuery(schemas.Schema):
    since: datetime = Field(description="ISO 8601 time; without a zone it is read as UTC.")
    after: str | None = Field(
        None, max_length=80, pattern=TEXT, description="The cursor from `next`."
    )
    limit: int = Field(100, ge=1, le=MAX_LIMIT)


def _utc(moment: datetime, where: str) -> datetime:
    """The same moment in UTC (PostgreSQL refuses offsets beyond ±16 h); naive is UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise Invalid(where, "That time is out of range.") from None


def _cursor(text: str) -> tuple[datetime, str, int]:
    try:
        at, kind, key = text.split("|")
        if kind not in api_selectors.KIND_ORDER:
            raise ValueError(kind)
        return _utc(datetime.fromisoformat(at), "query.after"), kind, int(key)
    except ValueError:
        raise Invalid("query.after", "Not a cursor: pass the `after` of a `next` URL.") from None


@router.get("/changes", response={200: schemas.ChangeList, **READ_ERRORS}, summary="What changed")
@decorate_view(freshness_cached)
def changes(request: HttpRequest, query: Query[ChangesQuery]):
    """New tools, new reviews, verdict flips and changed facts since a time, oldest first: what
    agents poll."""
    since = _utc(query.since, "query.since")
    after = _cursor(query.after) if query.after else None
    found = api_selectors.changes_since(since, after=after, limit=query.limit)
    page_shows(request, *[change.tool.pk for change in found.items])
    return {
        "next": _next(request, found.next_after),
        "items": [
            {
                "kind": change.kind,
                "at": change.at,
                "tool": converters.named(change.tool),
                "review": change.review and converters.review(change.review, found.sources),
                "fact": change.fact and converters.fact_news(change.tool, change.fact),
            }
            for change in found.items
        ],
    }


def invalid_response(exc: Invalid):
    message = f"Invalid input: {exc.where}: {exc.message}"
    return error_response(422, message, [{"where": exc.where, "message": exc.message}])
