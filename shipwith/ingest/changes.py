"""What a source says that differs from the catalog: the changes an `update` proposes.

`changes` is `{name: [old, new]}`, values JSON-safe strings (None: not given). Two sorts:
- the tool's own columns an editor decides on: `price_input_per_mtok` (the entry price per 1M
  input tokens, for tools priced that way or not priced yet), `licence`, `licence_kind`, and
  `release` (an update note);
- `fact:KEY` for a key of the catalog's registry (catalog/facts.py): one source's reading that
  differs from what that same source said before, as the registry stores it
  (`{"fact:output_price_per_mtok": ["10", "12"]}`); see readings.py.
"""

import re
from decimal import Decimal, InvalidOperation

from shipwith.catalog.models import PriceKind, Tool

PRICE = "price_input_per_mtok"  # the change of the entry price (the name candidates keep)
INPUT_PRICE = "input_price_per_mtok"  # the fact it is read from
LICENCE = "licence"
LICENCE_KIND = "licence_kind"
RELEASE = "release"
FACT = "fact:"
# Changes that alter what the panel judges: accepting one queues a re-review.
MATERIAL = frozenset({PRICE, LICENCE, LICENCE_KIND}) | {
    FACT + key for key in (INPUT_PRICE, "output_price_per_mtok", "licence", "open_weights")
}
PRICE_UNIT = "1M input tokens"
VAGUE_LICENCES = frozenset({"other", "unknown", "none", "noassertion", ""})


def money(value) -> str | None:
    """A price as a plain decimal string ("0.15"), or None."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    text = f"{number.normalize():f}"
    return text


def _licence_key(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", value.lower())


def same_licence(ours: str, theirs: str) -> bool:
    """ "Apache-2.0" is "apache 2.0"; "Llama 3.1 Community License" is "llama3.1"."""
    a, b = _licence_key(ours), _licence_key(theirs)
    return a == b or (len(b) >= 4 and b in a) or (len(a) >= 4 and a in b)


def price_tracked(tool: Tool) -> bool:
    """Is the tool's entry price a USD price per 1M input tokens (or still unknown)?"""
    if not tool.price_kind:
        return True
    unit = tool.price_unit.lower()
    return (
        tool.price_kind == PriceKind.USAGE
        and "1m" in unit
        and "input" in unit
        and tool.price_currency in ("USD", "")
    )


def tool_changes(tool: Tool, facts: dict) -> dict[str, list]:
    """{field: [old, new]} for the facts that differ from the tool's; {} when none does."""
    changes: dict[str, list] = {}
    new_price = money(facts.get(INPUT_PRICE))
    if new_price is not None and price_tracked(tool):
        old_price = money(tool.price_amount) if tool.price_kind else None
        if old_price != new_price:
            changes[PRICE] = [old_price, new_price]
    licence = (facts.get(LICENCE) or "").strip()
    if _licence_key(licence) not in VAGUE_LICENCES and not same_licence(tool.licence, licence):
        changes[LICENCE] = [tool.licence or None, licence]
    kind = facts.get(LICENCE_KIND)
    if kind and tool.licence_kind and kind != tool.licence_kind:
        changes[LICENCE_KIND] = [tool.licence_kind, kind]
    return changes


def fact_changed(name: str) -> str | None:
    """The registry key a `fact:KEY` change is about, else None."""
    return name.removeprefix(FACT) if name.startswith(FACT) else None


def facts_text(name: str, facts: dict) -> str:
    """What a listing said about a tool, as plain sentences the panel may quote."""
    lines = []
    if description := facts.get("description"):
        lines.append(description.strip())
    if licence := facts.get(LICENCE):
        lines.append(f"Licence: {licence}.")
    if (context := facts.get("context_window")) is not None:
        lines.append(f"Context length: {context:,} tokens.")
    if (longest := facts.get("max_output_tokens")) is not None:
        lines.append(f"Longest output: {longest:,} tokens.")
    if (price := money(facts.get(INPUT_PRICE))) is not None:
        lines.append(f"Price: {price} USD per 1M input tokens.")
    if (output := money(facts.get("output_price_per_mtok"))) is not None:
        lines.append(f"Output price: {output} USD per 1M output tokens.")
    if (parameters := money(facts.get("parameters"))) is not None:
        lines.append(f"Parameters: {parameters} billion.")
    if released := facts.get("release_date"):
        lines.append(f"Released: {released}.")
    return " ".join(lines) or name
