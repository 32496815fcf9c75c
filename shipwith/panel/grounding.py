"""The tool's source material and facts, and checking a review against them: evidence quotes
must appear in the material, stated prices and context sizes must agree with the facts."""

import re
import unicodedata
from collections.abc import Sequence

from shipwith.catalog.facts import fact_keys_for
from shipwith.catalog.models import Tool
from shipwith.catalog.selectors import FactRow, tool_facts
from shipwith.panel.numbers import FiguresCheck, figures_check
from shipwith.panel.schema import ReviewOutput

_PUNCTUATION = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u00a0": " ",
}
_EDGES = " \t\n\"'.,;:!?()[]…-"
MIN_QUOTE_WORDS = 3
# The facts a prompt carries: prices and context come first in the registry's order, so a
# cap keeps what takes quote most (the table also stops at prompts.MAX_FACTS_CHARS).
MAX_FACT_ROWS = 8
# A snapshot cut to fit a small model's context keeps at least this much, or is left out.
MIN_SNAPSHOT_CHARS = 200
CUT_MARK = " […]"


def source_material(tool: Tool) -> str:
    """Catalog text and source snapshots: all a reviewer may quote from."""
    return "\n".join(text for _, text in source_texts(tool))


def source_texts(tool: Tool) -> list[tuple[int | None, str]]:
    """The material in parts: (None, the catalog entry), then (source id, its snapshot)."""
    lines = [f"Name: {tool.name}"]
    if tool.vendor:
        lines.append(f"Vendor: {tool.vendor.name}")
    lines.append(f"Category: {tool.category.name}")
    for label, value in [
        ("Tagline", tool.tagline),
        ("Description", tool.description),
        ("Licence", tool.licence),
        ("Deployment", tool.get_deployment_display() if tool.deployment else ""),
        ("Entry price", tool.entry_price),
        ("Released", tool.release_date.isoformat() if tool.release_date else ""),
    ]:
        if value:
            lines.append(f"{label}: {value}")
    for tier in tool.tiers.all():
        lines.append(
            f"Paid tier: {tier.name}, {tier.price}" + (f" ({tier.notes})" if tier.notes else "")
        )
    parts: list[tuple[int | None, str]] = [(None, "\n".join(lines))]
    for source in tool.sources.all():
        if source.snapshot:
            text = f"\nSource: {source.title or source.url}\n{source.snapshot.strip()}"
            parts.append((source.pk, text))
    return parts


def source_texts_cut(
    parts: list[tuple[int | None, str]], chars: int
) -> list[tuple[int | None, str]]:
    """The material with its snapshots within `chars` characters together: the catalog entry
    whole, then each snapshot cut to a fair share (a short one keeps all of its own and leaves
    the unused rest to the longer ones) at a word's end, marked " […]". A snapshot whose share
    would be under MIN_SNAPSHOT_CHARS is left out."""
    entry, snapshots = parts[0], parts[1:]
    left = max(chars, 0)
    shares: dict[int, int] = {}
    for place, (_, text) in sorted(enumerate(snapshots), key=lambda item: len(item[1][1])):
        shares[place] = min(len(text), left // (len(snapshots) - len(shares)))
        left -= shares[place]
    kept = [
        (source_id, _cut(text, shares[place]))
        for place, (source_id, text) in enumerate(snapshots)
        if shares[place] >= min(len(text), MIN_SNAPSHOT_CHARS)
    ]
    return [entry, *kept]


def _cut(text: str, chars: int) -> str:
    """`text` within `chars` characters, ending at a word's end, marked when cut."""
    if len(text) <= chars:
        return text
    end = chars - len(CUT_MARK)
    space = text.rfind(" ", 0, end + 1)
    return text[: space if space > end // 2 else end].rstrip() + CUT_MARK


def facts_shown(tool: Tool) -> list[FactRow]:
    """The facts the panel is shown: the keys of the tool's kind, at most MAX_FACT_ROWS."""
    keys = {fact.key for fact in fact_keys_for(tool.category.slug)}
    return [row for row in tool_facts(tool.pk) if row.key in keys][:MAX_FACT_ROWS]


def figures_checked(output: ReviewOutput, facts: Sequence[FactRow]) -> FiguresCheck:
    """The prices and context sizes a review states in its own words, against the facts.

    The claim to pressure is left out: it names a claim to doubt, not one the reviewer makes.
    """
    return figures_check(f"{output.take}\n{output.key_risk}", facts)


def normalise(text: str) -> str:
    """Compare text the way a reader would: case, curly quotes, dashes and spacing ignored."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_PUNCTUATION.get(char, char) for char in text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def quotes_check(quotes: list[str], material: str) -> tuple[list[str], list[str]]:
    """Split quotes into (found verbatim in the material, not found)."""
    found, dropped = quotes_locate(quotes, [(None, material)])
    return [quote for quote, _ in found], dropped


def quotes_locate(
    quotes: list[str], parts: list[tuple[int | None, str]]
) -> tuple[list[tuple[str, int | None]], list[str]]:
    """Split quotes into (found verbatim, with the part it was found in; not found).

    A quote is credited to the first source snapshot that holds it, else to the catalog entry.
    """
    haystacks = [(key, normalise(text)) for key, text in parts]
    ordered = [h for h in haystacks if h[0] is not None] + [h for h in haystacks if h[0] is None]
    found, dropped = [], []
    for quote in quotes:
        needle = normalise(quote).strip(_EDGES)
        where = next((key for key, text in ordered if needle in text), False)
        if len(needle.split()) >= MIN_QUOTE_WORDS and where is not False:
            found.append((quote.strip(), where))
        else:
            dropped.append(quote)
    return found, dropped
