"""How rows become the API's documents (the schemas they fill are in schemas.py)."""

from collections.abc import Mapping

from shipwith.api.schemas import (
    Community,
    EntryPrice,
    EvidenceOut,
    FactChangeOut,
    FactNewsOut,
    FactOut,
    Model,
    Named,
    Panel,
    PickOut,
    PriceChangeOut,
    PricingSide,
    ReviewOut,
    SourceOut,
    SplitRowOut,
    Tier,
    WorkloadOut,
)
from shipwith.catalog.models import PaidTier, Source, Tool, format_price
from shipwith.catalog.pairs import pair_slug
from shipwith.catalog.selectors import FactHistoryRow, FactRow, fact_json, history_json
from shipwith.comparisons.pick import Pick, SplitRow
from shipwith.comparisons.pricing import PricingRead
from shipwith.panel.models import Review
from shipwith.panel.selectors import PanelSummary, panel_label
from shipwith.votes.selectors import CommunityFigure
from shipwith.web.facts import fact_change_sentence
from shipwith.web.selectors import Card, ComparisonPage


def _blank(value: str) -> str | None:
    return value or None


def entry_price(tool: Tool) -> EntryPrice:
    known = bool(tool.price_kind)
    return EntryPrice(
        kind=_blank(tool.price_kind),
        label=_blank(tool.entry_price),
        amount=tool.price_amount,
        currency=tool.price_currency if known else None,
        period=_blank(tool.price_period),
        unit=_blank(tool.price_unit),
    )


def panel(summary: PanelSummary) -> Panel:
    return Panel(
        complete=summary.is_complete,
        draft=summary.is_draft,
        ships=None if summary.is_draft else summary.ships,
        completed=summary.completed,
        seats=summary.seats,
        ship_percent=summary.ship_percent,
        label=panel_label(summary),
    )


def community(figure: CommunityFigure, summary: PanelSummary) -> Community:
    figure.panel_share = summary.ship_share
    return Community(
        shown=figure.shown,
        ships=figure.ships,
        skips=figure.skips,
        votes=figure.total,
        percent=figure.percent,
        interval=figure.interval,
        votes_needed=figure.needed,
        disagrees_with_panel=figure.disagrees,
    )


def named(row) -> Named | None:
    return Named(slug=row.slug, name=row.name) if row is not None else None


def tool_card(card: Card, absolute) -> dict:
    tool = card.tool
    return dict(
        slug=tool.slug,
        name=tool.name,
        category=named(tool.category),
        vendor=named(tool.vendor),
        tagline=tool.tagline,
        description=tool.description,
        licence=tool.licence,
        licence_kind=_blank(tool.licence_kind),
        deployment=_blank(tool.deployment),
        homepage=tool.homepage,
        tags=[tag.name for tag in tool.tags.all()],
        entry_price=entry_price(tool),
        panel=panel(card.panel),
        community=community(card.community, card.panel),
        url=absolute(tool.get_absolute_url()),
        updated_at=tool.updated_at,
    )


def evidence(row: Review, sources: Mapping[int, Source]) -> list[EvidenceOut]:
    """Each verified quote with the source it was found in, as the pages link it."""
    return [
        EvidenceOut(
            quote=str(quote),
            source=source(sources[source_id]) if source_id in sources else None,
            source_removed=source_id is not None and source_id not in sources,
        )
        for quote, source_id in row.evidence
    ]


def review(row: Review, sources: Mapping[int, Source]) -> ReviewOut:
    """A review; `sources` holds (by id) at least the sources its quotes were found in."""
    return ReviewOut(
        persona=row.persona.key,
        persona_name=row.persona.name,
        version=row.version,
        verdict=row.verdict,
        previous_verdict=_blank(row.previous_verdict),
        flipped=row.flipped,
        take=row.take,
        confidence=row.confidence,
        key_risk=row.key_risk,
        claim_to_pressure=row.claim_to_pressure,
        evidence=evidence(row, sources),
        evidence_quotes=[str(quote) for quote in row.evidence_quotes],
        dropped_quotes=len(row.dropped_quotes),
        competitors=[str(name) for name in row.competitors],
        flags=[str(flag) for flag in row.flags],
        model=Model(
            provider=row.provider, model_id=row.model_id, low_capability=row.is_low_capability
        ),
        alternate_for=_blank(row.alternate_for),
        prompt_version=row.prompt_version,
        prompt_layout=row.prompt_layout,
        created_at=row.created_at,
    )


def tier(row: PaidTier) -> Tier:
    return Tier(
        name=row.name,
        price=row.price,
        amount=row.amount,
        currency=row.currency,
        period=_blank(row.period),
        unit=_blank(row.unit),
        notes=row.notes,
    )


def source(row: Source) -> SourceOut:
    return SourceOut(url=row.url, title=row.title, checked_on=row.checked_on)


def facts(rows: list[FactRow]) -> list[FactOut]:
    return [FactOut(**fact_json(row)) for row in rows]


def fact_change(row: FactHistoryRow) -> FactChangeOut:
    return FactChangeOut(**history_json(row))


def fact_news(tool: Tool, row: FactHistoryRow) -> FactNewsOut:
    return FactNewsOut(**history_json(row), summary=fact_change_sentence(tool.name, row))


PRICE_UNITS = {
    "input_price_per_mtok": "1M input tokens",
    "output_price_per_mtok": "1M output tokens",
}


def price_history(rows: list[FactHistoryRow]) -> list[PriceChangeOut]:
    """The price facts' changes in the shape clients read before facts."""
    return [
        PriceChangeOut(
            field=row.key,
            old=row.old,
            new=row.new,
            currency="USD",
            unit=PRICE_UNITS[row.key],
            text=f"{format_price(row.old, 'USD') or 'no price'} → "
            f"{format_price(row.new, 'USD', unit=PRICE_UNITS[row.key]) or 'no price'}",
            changed_at=row.read_at,
            source=" ".join(part for part in (row.source.title, row.source.url) if part)
            if row.source
            else "",
        )
        for row in rows
        if row.key in PRICE_UNITS
    ]


def pick_out(result: Pick) -> PickOut:
    return PickOut(
        step=result.step,
        winner=result.winner.slug if result.winner else None,
        reason=result.reason,
        other_wins=result.other_wins,
    )


def split_row(row: SplitRow) -> SplitRowOut:
    return SplitRowOut(
        persona=row.persona.key,
        persona_name=row.persona.name,
        state=row.state,
        a=row.a.verdict if row.a else None,
        b=row.b.verdict if row.b else None,
    )


def pricing_side(tool: Tool, tiers: list[PaidTier], rows: list[FactRow]) -> PricingSide:
    return PricingSide(
        tool=tool.slug,
        entry_price=entry_price(tool),
        tiers=[tier(row) for row in tiers],
        licence=tool.licence,
        licence_kind=_blank(tool.licence_kind),
        deployment=_blank(tool.deployment),
        facts=facts(rows),
    )


def workloads(read: PricingRead | None) -> list[WorkloadOut]:
    rows = read.as_json()["workloads"] if read is not None else []
    return [WorkloadOut(**row) for row in rows]


def comparison_detail(
    page: ComparisonPage, rule: str, absolute, sources: Mapping[int, Source]
) -> dict:
    a, b = page.a, page.b
    comparison = page.comparison
    return dict(
        slug=pair_slug(a.tool, b.tool),
        a=tool_card(a, absolute),
        b=tool_card(b, absolute),
        pick=pick_out(page.pick),
        published_at=comparison.published_at if comparison else None,
        url=absolute(f"/compare/{pair_slug(a.tool, b.tool)}/"),
        rule=rule,
        pricing=[
            pricing_side(card.tool, page.tiers[card.tool.pk], page.facts[card.tool.pk])
            for card in (a, b)
        ],
        split=[split_row(row) for row in page.rows],
        agree=page.agree_count,
        splits=page.split_count,
        reviews_a=[review(row, sources) for row in a.panel.reviews],
        reviews_b=[review(row, sources) for row in b.panel.reviews],
        # Beside two verdicts only, as the page shows it: never a read of a draft panel.
        moderator_read=comparison.moderator_read if page.moderator_read_shown else None,
        moderator_model=(comparison.moderator_model or None) if page.moderator_read_shown else None,
        workloads=workloads(page.pricing),
    )
