import json

from django.core.management.base import BaseCommand, CommandError

from shipwith.catalog.models import Tool
from shipwith.catalog.selectors import fact_json, facts_for_tools
from shipwith.comparisons.pricing import (
    PricingRead,
    VolumeError,
    Workload,
    pricing_read,
    reader_workload,
    tool_prices,
)
from shipwith.panel.llm import LOW_CAPABILITY_NOTE
from shipwith.panel.models import Persona
from shipwith.panel.selectors import panel_label, panel_summaries

WIDTH = 34


class Command(BaseCommand):
    help = (
        "Put two tools side by side in the terminal: facts, the pricing read, the panel, the "
        "persona split. --json prints the pricing read for scripts."
    )

    def add_arguments(self, parser):
        parser.add_argument("a", metavar="A")
        parser.add_argument("b", metavar="B")
        parser.add_argument(
            "--json", action="store_true", help="Print the pricing read as JSON and nothing else."
        )
        parser.add_argument(
            "--input", metavar="TOKENS", help="Your input tokens a month (e.g. 20M): priced too."
        )
        parser.add_argument(
            "--output", metavar="TOKENS", help="Your output tokens a month (e.g. 5M)."
        )

    def handle(self, *args, a: str, b: str, **options):
        tools = {tool.slug: tool for tool in Tool.objects.with_relations().filter(slug__in=[a, b])}
        if unknown := [slug for slug in (a, b) if slug not in tools]:
            raise CommandError(f"no tool with slug: {', '.join(unknown)}")
        left, right = tools[a], tools[b]
        if left.pk == right.pk:
            raise CommandError("name two different tools")
        facts = facts_for_tools([left.pk, right.pk])
        read = self._pricing(left, right, facts, options)
        if options["json"]:
            self.stdout.write(json.dumps(_json(left, right, facts, read), indent=2, default=_iso))
            return
        summaries = panel_summaries([left.pk, right.pk])
        one, two = summaries[left.pk], summaries[right.pk]
        self.stdout.write(f"{left.name} vs {right.name} — which one should you ship with?\n")
        self._row("", left.name, right.name)
        self._row("Category", left.category.name, right.category.name)
        self._row("Vendor", _vendor(left), _vendor(right))
        self._row("Entry", left.entry_price or "—", right.entry_price or "—")
        self._row("Licence", left.licence or "—", right.licence or "—")
        self._row("Panel", panel_label(one), panel_label(two))
        self._prices(left, right, facts, read)
        self.stdout.write("")
        by_persona = [{r.persona_id: r for r in s.reviews} for s in (one, two)]
        agree, split = [], []
        for persona in Persona.objects.filter(active=True):
            mine, theirs = (reviews.get(persona.pk) for reviews in by_persona)
            self._row(persona.name, _verdict(mine), _verdict(theirs))
            if mine and theirs:
                (agree if mine.verdict == theirs.verdict else split).append(persona.name)
        self.stdout.write("")
        if agree:
            self.stdout.write(f"Same call from: {', '.join(agree)}")
        if split:
            self.stdout.write(f"Split: {', '.join(split)} judge the two differently")
        self._evidence((left, one), (right, two), by_persona=by_persona, split=split)
        if any(r.is_low_capability for s in (one, two) for r in s.reviews):
            self.stdout.write(self.style.WARNING(f"\nNote: {LOW_CAPABILITY_NOTE}"))

    def _evidence(self, *sides, by_persona, split: list[str]) -> None:
        """What the page shows beside the verdicts: claims, the split's key risks, the quotes."""
        for tool, summary in sides:
            claims = [r for r in summary.reviews if r.claim_to_pressure]
            if claims:
                self.stdout.write(f"\nClaims to pressure — {tool.name}:")
                for review in claims:
                    self.stdout.write(f"  {review.persona.name}: {review.claim_to_pressure}")
        for persona in Persona.objects.filter(active=True, name__in=split):
            self.stdout.write(f"\nKey risks as the {persona.name} sees them:")
            for (tool, _), reviews in zip(sides, by_persona, strict=True):
                risk = reviews[persona.pk].key_risk or "none named"
                self.stdout.write(f"  {tool.name}: {risk}")
        self.stdout.write("")
        for tool, summary in sides:
            kept = sum(len(r.evidence_quotes) for r in summary.reviews)
            dropped = sum(len(r.dropped_quotes) for r in summary.reviews)
            self.stdout.write(
                f"Evidence — {tool.name}: {kept} quote{'s' * (kept != 1)} found in its sources"
                + (f", {dropped} dropped as unverified" if dropped else "")
            )

    def _pricing(self, left: Tool, right: Tool, facts: dict, options: dict) -> PricingRead:
        """The stated workloads priced, and the reader's own volumes first when given."""
        extra: list[Workload] = []
        if options["input"] is not None or options["output"] is not None:
            try:
                extra = [reader_workload(options["input"] or "", options["output"] or "")]
            except VolumeError as exc:
                raise CommandError(str(exc)) from None
        read = pricing_read(tool_prices(left, facts[left.pk]), tool_prices(right, facts[right.pk]))
        mine = pricing_read(read.a, read.b, extra).workloads
        return PricingRead(read.a, read.b, mine + read.workloads)

    def _prices(self, left: Tool, right: Tool, facts: dict, read: PricingRead) -> None:
        """Each tool's price facts with their sources, and what the workloads cost a month."""
        by_tool = [{row.key: row for row in facts[tool.pk]} for tool in (left, right)]
        for key, label in (("input_price_per_mtok", "Input"), ("output_price_per_mtok", "Output")):
            rows = [side.get(key) for side in by_tool]
            if any(rows):
                self._row(label, *[row.text if row else "no price read" for row in rows])
                self._row("", *[_read(row) for row in rows])
        if not read.applies:
            return
        self.stdout.write("\nWhat a month costs with each, and which is cheaper:")
        for row in read.workloads:
            size = f"{row.workload.input_tokens:,} in + {row.workload.output_tokens:,} out"
            self.stdout.write(f"  {row.workload.name} — {size} tokens")
            self._row("", row.cost_a.text, row.cost_b.text)
            self.stdout.write(f"  {'':<10} → {row.verdict}")

    def _row(self, label: str, left: str, right: str) -> None:
        self.stdout.write(f"{label:<10} {left[:WIDTH]:<{WIDTH}} {right[:WIDTH]}")


def _vendor(tool: Tool) -> str:
    return tool.vendor.name if tool.vendor else "—"


def _verdict(review) -> str:
    if review is None:
        return "no review"
    flipped = f" (was {review.previous_verdict})" if review.flipped else ""
    flagged = " [flagged]" if review.flagged else ""
    return f"{review.verdict}{flipped}{flagged}"


def _read(row) -> str:
    """Where and when a price was read: "OpenAI pricing, 3 Dec 2026"."""
    if row is None:
        return ""
    source = (row.source.title or row.source.url) if row.source else "source not known"
    return f"{source[:20]}, {row.read_at:%-d %b %Y}"


def _json(left: Tool, right: Tool, facts: dict, read: PricingRead) -> dict:
    """The pricing read as the API words it: both tools' facts, then the workloads."""
    return {
        "tools": [
            {
                "slug": tool.slug,
                "name": tool.name,
                "self_hosted": prices.self_hosted,
                "facts": [fact_json(row) for row in facts[tool.pk]],
            }
            for tool, prices in ((left, read.a), (right, read.b))
        ],
        **read.as_json(),
    }


def _iso(value) -> str:
    return value.isoformat()
