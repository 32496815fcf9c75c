"""The tool's source material, and checking that evidence quotes really appear in it."""

import re
import unicodedata

from shipwith.catalog.models import Tool

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


def source_material(tool: Tool) -> str:
    """Catalog text and source snapshots: all a reviewer may quote from."""
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
    for source in tool.sources.all():
        if source.snapshot:
            lines.append(f"\nSource: {source.title or source.url}\n{source.snapshot.strip()}")
    return "\n".join(lines)


def normalise(text: str) -> str:
    """Compare text the way a reader would: case, curly quotes, dashes and spacing ignored."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_PUNCTUATION.get(char, char) for char in text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def quotes_check(quotes: list[str], material: str) -> tuple[list[str], list[str]]:
    """Split quotes into (found verbatim in the material, not found)."""
    haystack = normalise(material)
    kept, dropped = [], []
    for quote in quotes:
        needle = normalise(quote).strip(_EDGES)
        if len(needle.split()) >= MIN_QUOTE_WORDS and needle in haystack:
            kept.append(quote.strip())
        else:
            dropped.append(quote)
    return kept, dropped
