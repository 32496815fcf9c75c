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
        if any(r.is_low_capability for s in (one, two) for r in s.reviews):
            self.stdout.write(self.style.WARNING(f"\nNote: {LOW_CAPABILITY_NOTE}"))

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
