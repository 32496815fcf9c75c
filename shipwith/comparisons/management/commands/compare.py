from django.core.management.base import BaseCommand, CommandError

from shipwith.catalog.models import Tool
from shipwith.panel.llm import LOW_CAPABILITY_NOTE
from shipwith.panel.models import Persona
from shipwith.panel.selectors import panel_label, panel_summaries

WIDTH = 34


class Command(BaseCommand):
    help = "Put two tools side by side in the terminal: facts, the panel, the persona split."

    def add_arguments(self, parser):
        parser.add_argument("a", metavar="A")
        parser.add_argument("b", metavar="B")

    def handle(self, *args, a: str, b: str, **options):
        tools = {tool.slug: tool for tool in Tool.objects.with_relations().filter(slug__in=[a, b])}
        if unknown := [slug for slug in (a, b) if slug not in tools]:
            raise CommandError(f"no tool with slug: {', '.join(unknown)}")
        left, right = tools[a], tools[b]
        summaries = panel_summaries([left.pk, right.pk])
        one, two = summaries[left.pk], summaries[right.pk]
        self.stdout.write(f"{left.name} vs {right.name} — which one should you ship with?\n")
        self._row("", left.name, right.name)
        self._row("Category", left.category.name, right.category.name)
        self._row("Vendor", _vendor(left), _vendor(right))
        self._row("Entry", left.entry_price or "—", right.entry_price or "—")
        self._row("Licence", left.licence or "—", right.licence or "—")
        self._row("Panel", panel_label(one), panel_label(two))
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
