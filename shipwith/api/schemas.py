"""The API's documents: typed schemas, which write the OpenAPI file (converters.py fills them)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import AnyHttpUrl, Field

LicenceKind = Literal["open_weights", "open_source", "proprietary"]
Deployment = Literal["self_hosted", "api", "both"]
PriceKind = Literal["free", "amount", "usage", "contact"]
PanelState = Literal["ship", "skip", "split", "incomplete", "draft"]
VerdictValue = Literal["ship", "skip"]


class ErrorDetail(Schema):
    where: str = Field(description='Where the problem is, e.g. "query.limit" or "body.name".')
    message: str


class ErrorBody(Schema):
    status: int
    code: str = Field(description='A stable, machine-readable name, e.g. "not_found".')
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class Error(Schema):
    """Every 4xx and 5xx answer has this shape."""

    error: ErrorBody


class Named(Schema):
    slug: str
    name: str


class EntryPrice(Schema):
    kind: PriceKind | None = Field(description="None when the entry price is not known.")
    label: str | None = Field(description='As the card shows it: "Free", "$20/mo", …')
    amount: Decimal | None
    currency: str | None
    period: str | None
    unit: str | None


class Panel(Schema):
    complete: bool = Field(description="Every active reviewer has a current review.")
    draft: bool = Field(
        description="A take is by a low-capability model (the embedded one): the panel is a "
        "draft, not a verdict, and `ships` and `ship_percent` are null; each take keeps its "
        "verdict in `reviews`. A capable model's review of every seat makes it a verdict."
    )
    ships: int | None = Field(
        description="Ship verdicts among the current reviews; null for a draft."
    )
    completed: int = Field(description="Current reviews (the denominator of the share).")
    seats: int = Field(description="Active reviewers.")
    ship_percent: int | None = Field(description="Only for a verdict: complete, and no draft.")
    label: str = Field(
        description='"75% ship (3 of 4)", "2 of 4 reviews: incomplete" or "draft, no verdict: '
        '4 of 4 takes by the embedded model".'
    )


class Community(Schema):
    shown: bool = Field(description="Enough votes for a share (SHIPWITH_VOTES_MIN).")
    ships: int
    skips: int
    votes: int
    percent: int | None
    interval: tuple[int, int] | None = Field(description="Wilson 95% interval, in percent.")
    votes_needed: int = Field(description="Votes still missing before a share shows.")
    disagrees_with_panel: bool


class ToolCard(Schema):
    slug: str
    name: str
    category: Named
    vendor: Named | None
    tagline: str
    description: str
    licence: str
    licence_kind: LicenceKind | None
    deployment: Deployment | None
    homepage: str
    tags: list[str]
    entry_price: EntryPrice
    panel: Panel
    community: Community
    url: str = Field(description="The tool's page on this site.")
    updated_at: datetime


class Page(Schema):
    count: int = Field(description="Items matching the filters, over all pages.")
    next: str | None = Field(description="The next page's URL; null on the last page.")


class ToolList(Page):
    items: list[ToolCard]


class Model(Schema):
    provider: str
    model_id: str
    low_capability: bool = Field(description="Written by the tiny embedded default model.")


class SourceOut(Schema):
    url: str
    title: str
    checked_on: date | None


class EvidenceOut(Schema):
    quote: str
    source: SourceOut | None = Field(
        description="The source page the quote was found in; null: the catalog entry itself, "
        "or a source since removed (then source_removed is true)."
    )
    source_removed: bool = Field(
        description="The quote was found in a source the catalog no longer lists."
    )


class ReviewOut(Schema):
    persona: str = Field(description="The reviewer's key: builder, skeptic, futurist, operator…")
    persona_name: str
    version: int
    verdict: VerdictValue
    previous_verdict: VerdictValue | None
    flipped: bool
    take: str
    confidence: int
    key_risk: str
    claim_to_pressure: str
    evidence: list[EvidenceOut] = Field(
        description="Quotes found in the tool's sources, each with the source it was found in."
    )
    evidence_quotes: list[str] = Field(
        description="The same quotes without their sources (kept for clients older than "
        "`evidence`)."
    )
    dropped_quotes: int = Field(description="Quotes the model gave that are not in the sources.")
    competitors: list[str]
    flags: list[str]
    model: Model
    alternate_for: str | None = Field(
        description="When an alternate model wrote this take: the model that had to leave the "
        "seat, and why (a model never reviews its own vendor's tool)."
    )
    prompt_version: int
    prompt_layout: str
    created_at: datetime


class Tier(Schema):
    name: str
    price: str
    amount: Decimal | None
    currency: str
    period: str | None
    unit: str | None
    notes: str


FactValue = bool | int | float | str | list[str]


class FactSourceOut(Schema):
    url: str = Field(description='Where the fact was read; "" when the source is not known.')
    title: str


class FactReadingOut(Schema):
    """What one other source says."""

    value: FactValue
    text: str = Field(description='As the pages show it, e.g. "$0.60 per 1M tokens".')
    source: FactSourceOut | None
    read_at: datetime
    stale: bool = Field(description="Not read for 30 days.")


class FactOut(Schema):
    """A fact with the source it was read from and when; other sources' values in `conflicts`."""

    key: str = Field(description='A key of the registry, e.g. "input_price_per_mtok".')
    label: str = Field(description='What pages call it, e.g. "Input price".')
    value: FactValue = Field(
        description="A number (prices in USD), true/false, text, a date (YYYY-MM-DD) or a list."
    )
    unit: str = Field(description='e.g. "USD per 1M tokens", "tokens"; "" for none.')
    text: str = Field(description='As the pages show it, e.g. "$0.15 per 1M tokens".')
    source: FactSourceOut | None
    read_at: datetime = Field(description="When the source last said this value.")
    stale: bool = Field(description="Not read for 30 days.")
    conflicts: list[FactReadingOut] = Field(
        description="Other sources that give another value, each with its source and date; the "
        "value shown is the most recently changed among those read in the last 30 days."
    )


class FactChangeOut(Schema):
    """One source's value of a fact, before and after."""

    key: str
    label: str
    old: FactValue | None = Field(description="Null: the source's first reading.")
    new: FactValue | None = Field(description="Null: the source no longer gives it.")
    text: str = Field(description='"$0.60 → $0.80 per 1M tokens"')
    source: FactSourceOut | None
    read_at: datetime = Field(description="When the source was read saying the new value.")


class FactNewsOut(FactChangeOut):
    summary: str = Field(description='"GPT-4o mini: output price $0.60 → $0.80 per 1M tokens"')


class PriceChangeOut(Schema):
    field: str = Field(
        description='The changed price: "input_price_per_mtok" or "output_price_per_mtok" '
        '("price_amount" in answers before facts).'
    )
    old: Decimal | None
    new: Decimal | None
    currency: str
    unit: str
    text: str = Field(description='"$0.15 → $0.20 per 1M input tokens"')
    changed_at: datetime
    source: str = Field(description="Where the new price was read.")


class ToolDetail(ToolCard):
    reviews: list[ReviewOut] = Field(description="The current review of each active reviewer.")
    verdict_history: list[ReviewOut] = Field(description="Earlier versions, newest first.")
    tiers: list[Tier]
    sources: list[SourceOut]
    price_history: list[PriceChangeOut] = Field(
        description="Changes of the input and output prices per 1M tokens, newest first (kept "
        "for older clients: `facts` and /tools/{slug}/facts/history say more)."
    )
    comparisons: list[str] = Field(description="API URLs of published comparisons with it.")
    facts: list[FactOut] = Field(
        default_factory=list,
        description="Prices, context window, licence…: each with its source and date.",
    )


class PickOut(Schema):
    step: Literal["panel", "community", "toss-up", "incomplete", "draft"] = Field(
        description="How the pick was made; incomplete/draft: no pick until both panels are "
        "verdicts."
    )
    winner: str | None = Field(description="The picked tool's slug; null for no pick.")
    reason: str
    other_wins: list[str] = Field(description="When the other tool is the better choice.")


class ComparisonSummary(Schema):
    slug: str
    a: ToolCard
    b: ToolCard
    pick: PickOut
    published_at: datetime | None
    url: str


class ComparisonList(Page):
    items: list[ComparisonSummary]


class PricingSide(Schema):
    tool: str
    entry_price: EntryPrice
    tiers: list[Tier]
    licence: str
    licence_kind: LicenceKind | None
    deployment: Deployment | None
    facts: list[FactOut] = Field(default_factory=list, description="As `/tools/{slug}` gives them.")


class WorkloadOut(Schema):
    name: str
    description: str
    input_tokens: int = Field(description="A month.")
    output_tokens: int = Field(description="A month.")
    monthly_cost: dict[str, float | None] = Field(
        description="USD a month by tool slug, to the cent: input tokens / 1M × input price + "
        "output tokens / 1M × output price; null when not priced (see `basis`)."
    )
    basis: dict[str, Literal["priced", "self_hosted", "no_price"]] = Field(
        description="By tool slug: priced; self_hosted (runs on your hardware: no price, never "
        "$0); no_price (no source gave its prices)."
    )
    cheaper: str | None = Field(description="The cheaper tool's slug; null when not known.")
    saving: float | None = Field(description="USD a month the cheaper one saves.")
    times: float | None = Field(
        description="How many times as much the other costs; null when the cheaper is free."
    )
    verdict: str = Field(description='"GPT-4o mini: $94.00 a month less, 16.7× cheaper"')


class SplitRowOut(Schema):
    persona: str
    persona_name: str
    state: Literal["agree", "split", "missing"]
    a: VerdictValue | None
    b: VerdictValue | None


class ComparisonDetail(ComparisonSummary):
    rule: str
    pricing: list[PricingSide]
    split: list[SplitRowOut]
    agree: int
    splits: int
    reviews_a: list[ReviewOut]
    reviews_b: list[ReviewOut]
    moderator_read: str | None
    moderator_model: str | None
    workloads: list[WorkloadOut] = Field(
        default_factory=list,
        description="Stated workloads (input and output tokens a month) priced with both tools; "
        "empty when neither is a model.",
    )


class CategoryOut(Schema):
    slug: str
    name: str
    description: str
    tools: int
    url: str


class RatingOut(Schema):
    rank: int
    category_rank: int
    tool: Named
    category: Named
    score: float = Field(description="Elo-like: 400 points are 10:1 odds.")
    lower: float = Field(description="95% interval, low end.")
    upper: float
    votes: int


class FitOut(Schema):
    fitted_at: datetime
    votes: int
    tools: int
    bootstrap_rounds: int


class LeaderboardOut(Page):
    fit: FitOut | None = Field(description="Null until readers have cast head-to-head votes.")
    items: list[RatingOut]


class ChangeOut(Schema):
    kind: Literal["tool", "review", "verdict_flip", "fact_change"]
    at: datetime
    tool: Named
    review: ReviewOut | None
    fact: FactNewsOut | None = Field(
        None, description="For a fact_change: a source's value of a fact changed."
    )


class ChangeList(Schema):
    items: list[ChangeOut]
    next: str | None = Field(description="More changes: follow until null, then poll later.")


class Submission(Schema):
    """A tool an editor proposes; it joins the ingest candidates for review."""

    name: str = Field(min_length=1, max_length=120, pattern=r"\S")
    url: AnyHttpUrl = Field(description="The tool's homepage or repository.")
    vendor: str | None = Field(default=None, max_length=120)
    description: str | None = Field(default=None, max_length=5000)
    category: str | None = Field(
        default=None, max_length=80, pattern=r"^[-a-zA-Z0-9_]+$", description="A category slug."
    )
    licence: str | None = Field(default=None, max_length=120, description="e.g. Apache-2.0")


class SubmissionOut(Schema):
    candidate: int = Field(description="The ingest candidate it joined or opened.")
    status: Literal["new", "update", "duplicate", "accepted", "rejected"] = Field(
        description="new: a tool we do not know; update/duplicate: a known tool (changed or "
        "not); accepted/rejected: already decided."
    )
    tool: str | None = Field(description="The catalog tool it matched, if any.")


class PanelRunIn(Schema):
    model: str | None = Field(
        default=None,
        max_length=120,
        pattern=r"^[^\x00]*$",
        description='A model spec such as "openai:gpt-4o-mini"; the panel default otherwise.',
    )


class SeatOut(Schema):
    persona: str
    status: Literal["pending", "done", "failed", "recused"]
    error: str = Field(description="Why the seat failed or was recused.")


class PanelRunOut(Schema):
    run: int
    tool: str
    status: Literal["queued", "running", "complete", "incomplete", "failed"]
    model: str
    reason: str = Field(description="What kept the panel from completing.")
    seats: list[SeatOut]
    created_at: datetime
    finished_at: datetime | None
