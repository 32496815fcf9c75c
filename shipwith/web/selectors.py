"""Reads behind the pages, each in a fixed number of queries whatever the catalog's size."""

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from shipwith.catalog.facts import FACTS, ORDER, FactKey, fact_keys_for
from shipwith.catalog.models import Category, PaidTier, Source, Tool
from shipwith.catalog.pairs import pair_resolve
from shipwith.catalog.selectors import FactHistoryRow, FactRow, fact_history, facts_for_tools
from shipwith.comparisons.models import Comparison
from shipwith.comparisons.moderator import moderator_choice, read_shown
from shipwith.comparisons.pick import Pick, Side, SplitRow, pick, split_rows
from shipwith.comparisons.pricing import PricingRead, pricing_read, tool_prices
from shipwith.comparisons.selectors import sides
from shipwith.core.text import web_url
from shipwith.panel.llm import LLMError
from shipwith.panel.models import (
    LOW_CAPABILITY,
    PanelEval,
    Persona,
    Review,
    Seat,
    is_low_capability,
)
from shipwith.panel.selectors import PanelSummary, empty_seats
from shipwith.votes.selectors import CommunityFigure


@dataclass
class Card:
    """A tool as a card shows it: the tool, its panel and its community figure."""

    tool: Tool
    panel: PanelSummary
    community: CommunityFigure


def cards(tools: list[Tool]) -> list[Card]:
    """Attach panel and community figures to tools in a constant number of queries."""
    by_id = sides(tools)
    return [Card(tool, by_id[tool.pk].panel, by_id[tool.pk].community) for tool in tools]


@dataclass
class Evidence:
    """A verified quote and the source it was found in (None: the catalog entry, or a source
    since removed: `removed`)."""

    quote: str
    source: Source | None
    removed: bool = False

    @property
    def href(self) -> str:
        """The source's address when it is a web page (never a javascript: or data: URL)."""
        return web_url(self.source.url) if self.source else ""


@dataclass
class Competitor:
    """A competitor a review names, and its tool page when the catalog has it."""

    name: str
    tool: Tool | None


def _competitor_tools(names: set[str]) -> dict[str, Tool]:
    """Tools named (by name or alias, any case) by these names, in one query."""
    if not names:
        return {}
    # One comparison per row for the names; the substring scans only where aliases exist.
    by_alias = Q()
    for name in names:
        by_alias |= Q(aliases__icontains=name)
    condition = Q(lower_name__in=names) | (~Q(aliases="") & by_alias)
    tools = Tool.objects.annotate(lower_name=Lower("name")).filter(condition)
    found: dict[str, Tool] = {}
    for tool in tools.only("name", "slug", "aliases"):
        for known in [tool.name, *tool.alias_list]:
            if known.casefold() in names:
                found.setdefault(known.casefold(), tool)
    return found


def evidence_attach(reviews: list[Review], sources: dict[int, Source]) -> None:
    """Give each review its quotes with their sources and its competitors with their pages.

    One query for the competitors of every review on the page, whatever their number.
    """
    names = {name.casefold() for review in reviews for name in review.competitors if name}
    tools = _competitor_tools(names)
    for review in reviews:
        review.evidence_items = [
            Evidence(
                quote,
                sources.get(source_id),
                removed=source_id is not None and source_id not in sources,
            )
            for quote, source_id in review.evidence
        ]
        review.competitor_links = [
            Competitor(name, tools.get(name.casefold())) for name in review.competitors if name
        ]


def _tools() -> QuerySet[Tool]:
    return Tool.objects.select_related("category", "vendor")


def tool_id(slug: str) -> int | None:
    return Tool.objects.filter(slug=slug).values_list("pk", flat=True).first()


def pair_tools(pair: str) -> tuple[Tool, Tool] | None:
    """The two tools "<a>-vs-<b>" names, in the order named, with what their cards show."""
    return pair_resolve(pair, _tools())


def active_personas() -> list[Persona]:
    return list(Persona.objects.filter(active=True))


@dataclass
class ComparisonPage:
    a: Card
    b: Card
    comparison: Comparison | None
    rows: list[SplitRow]
    pick: Pick
    personas: list[Persona]
    tiers: dict[int, list] = field(default_factory=dict)
    empty: dict[int, dict[int, Seat]] = field(default_factory=dict)
    facts: dict[int, list[FactRow]] = field(default_factory=dict)
    pricing: PricingRead | None = None

    @property
    def licences(self) -> list[tuple[Tool, FactRow | None]]:
        """Each tool with its licence as read from a source (the catalog's when none)."""
        return [
            (card.tool, {row.key: row for row in self.facts[card.tool.pk]}.get("licence"))
            for card in self.cards
        ]

    @property
    def fact_pairs(self) -> list["FactPair"]:
        """Both tools' facts side by side: every key either has (the licence has its own row),
        and the prices always when a tool is a model."""
        by_tool = [{row.key: row for row in self.facts[card.tool.pk]} for card in self.cards]
        keys = (set(by_tool[0]) | set(by_tool[1])) - {"licence"}
        if self.pricing is not None and self.pricing.applies:
            keys |= {"input_price_per_mtok", "output_price_per_mtok"}
        return [
            FactPair(FACTS[key], by_tool[0].get(key), by_tool[1].get(key))
            for key in sorted(keys, key=ORDER.__getitem__)
        ]

    @property
    def claims(self) -> list[list[Review]]:
        """Each tool's reviews that name a claim to pressure, A's then B's."""
        return [[r for r in card.panel.reviews if r.claim_to_pressure] for card in self.cards]

    @property
    def moderator_read_shown(self) -> bool:
        return read_shown(self.comparison, self.a.panel, self.b.panel)

    @property
    def moderator_recusal(self) -> str:
        """Why no model may write the read ("" when one may)."""
        try:
            return moderator_choice(self.a.tool, self.b.tool).recused
        except LLMError:  # a model that cannot be built is the worker's error to record
            return ""

    @property
    def moderator_call_name(self) -> str:
        call = self.comparison.moderator_call if self.comparison else ""
        return {"a": self.a.tool.name, "b": self.b.tool.name}.get(call, "")

    @property
    def cards(self) -> list[Card]:
        return [self.a, self.b]

    @property
    def drafts(self) -> list[Card]:
        """The cards whose panel is a draft (the page says once how to make them verdicts)."""
        return [card for card in self.cards if card.panel.is_draft]

    @property
    def tier_lists(self) -> list[list]:
        return [self.tiers[self.a.tool.pk], self.tiers[self.b.tool.pk]]

    @property
    def moderator_is_low_capability(self) -> bool:
        return bool(self.comparison) and is_low_capability(self.comparison.moderator_model)

    @property
    def agree_count(self) -> int:
        return sum(row.state == "agree" for row in self.rows)

    @property
    def split_count(self) -> int:
        return sum(row.state == "split" for row in self.rows)


def comparison_page(a: Tool, b: Tool) -> ComparisonPage:
    """Everything the comparison page shows for an already-resolved canonical pair."""
    card_a, card_b = cards([a, b])
    personas = active_personas()
    rows = split_rows(personas, card_a.panel, card_b.panel)
    verdict = pick(
        Side(a, card_a.panel, card_a.community), Side(b, card_b.panel, card_b.community), rows
    )
    comparison = Comparison.objects.filter(tool_a=a, tool_b=b).first()
    tiers: dict[int, list] = {a.pk: [], b.pk: []}
    for tier in PaidTier.objects.filter(tool__in=[a, b]):
        tiers[tier.tool_id].append(tier)
    sources = {source.pk: source for source in Source.objects.filter(tool__in=[a, b])}
    evidence_attach(card_a.panel.reviews + card_b.panel.reviews, sources)
    empty = empty_seats([a.pk, b.pk])
    for row in rows:
        row.empty = [empty[tool.pk].get(row.persona.pk) for tool in (a, b)]
    facts = facts_for_tools([a.pk, b.pk])
    pricing = pricing_read(tool_prices(a, facts[a.pk]), tool_prices(b, facts[b.pk]))
    return ComparisonPage(
        card_a, card_b, comparison, rows, verdict, personas, tiers, empty, facts, pricing
    )


@dataclass(frozen=True)
class FactPair:
    """One key of two tools: each tool's row, None where no source gave it."""

    fact: FactKey
    a: FactRow | None
    b: FactRow | None

    @property
    def rows(self) -> list[FactRow | None]:
        return [self.a, self.b]


@dataclass(frozen=True)
class FactLine:
    """A key a tool page lists: its row, or None ("not known yet")."""

    fact: FactKey
    row: FactRow | None


def fact_lines(category_slug: str, rows: list[FactRow]) -> list[FactLine]:
    """The keys the tool's kind has, known or not, and any other key a source gave."""
    by_key = {row.key: row for row in rows}
    keys = {fact.key for fact in fact_keys_for(category_slug)} | set(by_key)
    return [FactLine(FACTS[key], by_key.get(key)) for key in sorted(keys, key=ORDER.__getitem__)]


@dataclass
class ToolPage:
    card: Card
    history: list[Review]
    comparisons: list[Comparison]
    peers: list[Tool]
    empty_seats: list[Seat] = field(default_factory=list)
    facts: list[FactRow] = field(default_factory=list)
    fact_changes: list[FactHistoryRow] = field(default_factory=list)

    @property
    def fact_lines(self) -> list[FactLine]:
        return fact_lines(self.card.tool.category.slug, self.facts)

    @property
    def value_changes(self) -> list[FactHistoryRow]:
        """Changes of a value, newest first (a source's first reading is in the facts table)."""
        return [row for row in self.fact_changes if row.old is not None and row.new is not None]

    @property
    def drafts(self) -> list[Card]:
        """The card when its panel is a draft (the page says once how to make it a verdict)."""
        return [self.card] if self.card.panel.is_draft else []


def tool_page(slug: str) -> ToolPage | None:
    """The tool page's data, or None for an unknown slug."""
    tool = _tools().prefetch_related("tags", "sources", "tiers").filter(slug=slug).first()
    if tool is None:
        return None
    (card,) = cards([tool])
    evidence_attach(card.panel.reviews, {source.pk: source for source in tool.sources.all()})
    reviewed = {review.persona_id for review in card.panel.reviews}
    empty = [seat for pid, seat in empty_seats([tool.pk])[tool.pk].items() if pid not in reviewed]
    history = list(
        Review.objects.filter(tool=tool, is_current=False)
        .select_related("persona")
        .order_by("-created_at", "-pk")[:40]
    )
    comparisons = list(
        Comparison.objects.published()
        .filter(Q(tool_a=tool) | Q(tool_b=tool))
        .select_related("tool_a", "tool_b")[:12]
    )
    linked = {c.tool_a_id for c in comparisons} | {c.tool_b_id for c in comparisons}
    peers = list(
        Tool.objects.filter(category_id=tool.category_id)
        .exclude(pk__in=linked | {tool.pk})
        .only("name", "slug")[:6]
    )
    facts = facts_for_tools([tool.pk])[tool.pk]
    changes = fact_history(tool.pk, limit=FACT_CHANGES_SHOWN)
    return ToolPage(card, history, comparisons, peers, empty, facts, changes)


FACT_CHANGES_SHOWN = 40


def latest_comparisons(limit: int = 12) -> list[Comparison]:
    return list(Comparison.objects.published().select_related("tool_a", "tool_b")[:limit])


def most_shipped(limit: int = 8) -> list[Card]:
    """Tools with the most current ship verdicts, complete panels first; never a draft, whose
    ships are no verdict (the section ranks by the figure a draft does not have)."""
    current = Review.objects.filter(is_current=True, persona__active=True)
    drafts = current.filter(LOW_CAPABILITY).values("tool_id")
    top = (
        current.filter(verdict="ship")
        .exclude(tool_id__in=drafts)
        .values("tool_id")
        .annotate(ships=Count("pk"))
        .order_by("-ships", "tool_id")[: limit * 2]
    )
    tools = list(_tools().filter(pk__in=[row["tool_id"] for row in top]))
    ranked = sorted(
        cards(tools),
        key=lambda c: (not c.panel.is_verdict, -(c.panel.ship_share or 0), c.tool.name),
    )
    return ranked[:limit]


def categories_with_counts() -> list[Category]:
    # Explicit order: PostgreSQL does not keep Meta.ordering through the GROUP BY.
    return list(Category.objects.annotate(tool_count=Count("tools")).order_by("name", "pk"))


CATEGORY_PAGE_SIZE = 48


def category_page(slug: str, page: str | int = 1) -> tuple[Category, Page, list[Card]] | None:
    """One page of a category's tools, as cards."""
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        return None
    tools = _tools().filter(category=category).order_by("name", "pk")
    listing = Paginator(tools, CATEGORY_PAGE_SIZE).get_page(page)
    return category, listing, cards(list(listing.object_list))


def category_named(slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def search_condition(query: str) -> Q | None:
    """Match tools whose name, tagline, description, vendor or tags contain every word."""
    words = query.split()[:8]
    if not words:
        return None
    condition = Q()
    for word in words:
        condition &= (
            Q(name__icontains=word)
            | Q(tagline__icontains=word)
            | Q(description__icontains=word)
            | Q(vendor__name__icontains=word)
            | Q(tags__name__iexact=word)
        )
    return condition


def tools_search(query: str, limit: int = 40) -> list[Card]:
    """Tools whose name, tagline, description, vendor or tags contain every word of the query."""
    condition = search_condition(query)
    if condition is None:
        return []
    ids = list(Tool.objects.filter(condition).values_list("pk", flat=True).distinct()[:limit])
    tools = list(_tools().filter(pk__in=ids))
    lowered = query.lower()
    tools.sort(key=lambda t: (lowered not in t.name.lower(), t.name.lower()))
    return cards(tools)


def models_in_use() -> list[dict]:
    """Which models wrote the current reviews, and how many each."""
    return list(
        Review.objects.filter(is_current=True)
        .values("provider", "model_id")
        .annotate(reviews=Count("pk"))
        .order_by("-reviews", "model_id")
    )


def latest_verdicts(limit: int = 50) -> list[Review]:
    return list(
        # Newest first by id: reviews are only ever appended, and the key is indexed.
        Review.objects.select_related("tool", "persona").order_by("-pk")[:limit]
    )


def latest_eval(model_spec: str) -> PanelEval | None:
    """The newest `shipwith panel eval` of this model, for the methodology page."""
    return PanelEval.objects.filter(model_spec=model_spec).first()
