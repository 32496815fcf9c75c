"""Catalog and panel rows for tests, made directly (the apps' services write them live).

The one place tests make tools, categories, personas and reviews; each app's conftest wraps
these in fixtures with the defaults its tests read.
"""

import itertools

from shipwith.catalog.models import Category, PaidTier, Source, Tool, Vendor
from shipwith.core.models import Stamp
from shipwith.panel.models import Persona, Review

_numbers = itertools.count(1)

PERSONAS = [
    ("builder", "Builder", "What the tool really is and the first hour of real use."),
    ("skeptic", "Skeptic", "The competitors by name and the scenario where it breaks."),
    ("futurist", "Futurist", "The falsifiable thesis the tool bets on, with a date."),
    ("operator", "Operator", "Who pays, the moat, and how the business survives."),
]


def make_personas() -> list[Persona]:
    return [
        Persona.objects.get_or_create(
            key=key,
            defaults={
                "name": name,
                "position": index,
                "lens": lens,
                "priorities": "A clear primitive\nA short path to value",
                "deal_breakers": "Unverified claims\nLock-in",
                "voice": "Plain and specific.",
            },
        )[0]
        for index, (key, name, lens) in enumerate(PERSONAS)
    ]


def make_category(slug: str = "inference-servers", name: str = "Inference servers") -> Category:
    return Category.objects.get_or_create(slug=slug, defaults={"name": name})[0]


def make_vendor(name: str) -> Vendor:
    return Vendor.objects.get_or_create(
        name=name, defaults={"slug": name.lower().replace(" ", "-")}
    )[0]


def make_tool(
    slug: str | None = None,
    *,
    category: Category | None = None,
    vendor: str | None = "Acme",
    plain: bool = False,
    **fields,
) -> Tool:
    """A tool in `category` (inference servers by default) by `vendor` (None: no vendor).

    `plain` leaves every descriptive field empty but those given, as a bare catalog row.
    """
    number = next(_numbers)
    slug = slug or f"tool-{number}"
    defaults = {"name": slug.replace("-", " ").title()}
    if not plain:
        defaults |= {
            "tagline": f"Tagline of {slug}",
            "description": f"{slug} serves models over HTTP with batching.",
            "licence": "Apache-2.0",
            "licence_kind": "open_source",
            "deployment": "self_hosted",
            "price_kind": "free",
        }
    defaults.update(fields)
    return Tool.objects.create(
        slug=slug,
        category=category or make_category(),
        vendor=make_vendor(vendor) if vendor else None,
        **defaults,
    )


def add_tier(tool: Tool, name: str = "Team", amount: int = 20) -> PaidTier:
    return PaidTier.objects.create(tool=tool, name=name, amount=amount, period="month")


def add_source(tool: Tool, url: str = "https://example.com/docs") -> Source:
    return Source.objects.create(tool=tool, url=url, title="Docs", checked_on="2026-11-01")


def make_review(tool: Tool, persona: Persona, verdict: str = "ship", **fields) -> Review:
    """Add a new current version of `persona`'s review of `tool`."""
    previous = Review.objects.filter(tool=tool, persona=persona, is_current=True).first()
    if previous:
        previous.is_current = False
        previous.save(update_fields=["is_current"])
    values = {
        "take": f"{persona.name} on {tool.name}: a concrete take of some length.",
        "confidence": 70,
        "prompt_version": 1,
        "model_id": "gpt-4o-mini",
        "provider": "openai",
        "previous_verdict": previous.verdict if previous else "",
    }
    values.update(fields)
    return Review.objects.create(
        tool=tool,
        persona=persona,
        version=(previous.version + 1) if previous else 1,
        is_current=True,
        verdict=verdict,
        **values,
    )


def make_panel(tool: Tool, verdicts: str = "ssks", **fields) -> list[Review]:
    """Reviews from the first len(verdicts) personas: "s" ship, "k" skip."""
    personas = make_personas()
    return [
        make_review(tool, persona, "ship" if v == "s" else "skip", **fields)
        for persona, v in zip(personas, verdicts, strict=False)
    ]


def stamps_age() -> None:
    """Every page's tools last changed long ago (a cold list then renders once, not twice)."""
    Stamp.objects.update(value=1)


def stamp_reads(captured) -> int:
    """How many of the captured queries read freshness stamps (the page-cache check)."""
    return sum("core_stamp" in query["sql"] for query in captured.captured_queries)


FACT_VALUES = {
    "input_price_per_mtok": "0.15",
    "output_price_per_mtok": "0.60",
    "context_window": 128_000,
    "max_output_tokens": 16_384,
    "input_modalities": "text, image",
    "output_modalities": "text",
    "parameters": "70B",
    "open_weights": False,
    "licence": "Proprietary",
    "release_date": "2024-07-18",
}


def add_facts(tool: Tool, *, sources: int = 2, changed: bool = True) -> None:
    """Ten facts from each of `sources` sources (20 rows for two), the later sources giving
    another output price (a conflict), and, if `changed`, a price change in the history."""
    from datetime import timedelta

    from django.utils import timezone

    from shipwith.catalog.readings import facts_record

    now = timezone.now()
    for n in range(sources):
        values = dict(FACT_VALUES, output_price_per_mtok=f"0.{60 + n}")
        url = f"https://source-{n}.example/{tool.slug}"
        facts_record(
            tool_id=tool.pk, source_url=url, source_title=f"Source {n}",
            read_at=now - timedelta(days=2), values=values,
        )  # fmt: skip
        if changed:
            facts_record(
                tool_id=tool.pk, source_url=url, source_title=f"Source {n}",
                read_at=now - timedelta(hours=n + 1), values={"input_price_per_mtok": "0.2"},
            )  # fmt: skip
