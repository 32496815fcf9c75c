"""Copy the price history (PriceChange) into the facts' history (FactChange).

A PriceChange of `price_amount` in USD (or no currency) per 1M input tokens becomes a change of
`input_price_per_mtok`; per 1M output tokens, of `output_price_per_mtok`. Any other row (a
monthly price, another currency, a unit that does not say input or output) is no fact of the
registry: it is left in PriceChange only, which stays until its readers have moved.

PriceChange.source is "<source name> <url>" (ingest writes it so): the URL becomes the source,
the rest its title. The newest change per tool, key and source becomes that source's current
Fact, read when the change was, so the next reading of the source continues its history.

Reversing does nothing: going back past 0005 drops both tables.
"""

import re
from decimal import Decimal

from django.db import migrations

BATCH = 1000


def _fact_key(field: str, currency: str, unit: str) -> str | None:
    unit = unit.lower()
    if field != "price_amount" or currency not in ("USD", "") or not re.search(r"\b1\s*m\b", unit):
        return None
    if "input" in unit and "output" not in unit:
        return "input_price_per_mtok"
    if "output" in unit and "input" not in unit:
        return "output_price_per_mtok"
    return None


def _text(amount: Decimal | None) -> str:
    """The registry's text of a price (catalog.facts.DecimalType.dump): 0.1500 → "0.15"."""
    if amount is None:
        return ""
    integral = amount.to_integral_value()
    return f"{integral if amount == integral else amount.normalize():f}"


def _source(text: str) -> tuple[str, str]:
    """ "openrouter https://openrouter.ai/x" → ("https://openrouter.ai/x", "openrouter")."""
    words = text.split()
    urls = [w for w in words if re.match(r"https?://", w) and len(w) <= 500]
    if not urls:
        return "", text.strip()[:200]
    url = urls[-1]
    return url, " ".join(w for w in words if w != url)[:200]


def copy_price_changes(apps, schema_editor):
    PriceChange = apps.get_model("catalog", "PriceChange")
    FactChange = apps.get_model("catalog", "FactChange")
    Fact = apps.get_model("catalog", "Fact")
    changes, latest = [], {}
    rows = PriceChange.objects.order_by("changed_at", "pk").iterator(chunk_size=BATCH)
    for row in rows:
        key = _fact_key(row.field, row.currency, row.unit)
        if key is None:
            continue
        url, title = _source(row.source)
        change = FactChange(
            tool_id=row.tool_id,
            key=key,
            old=_text(row.old),
            new=_text(row.new),
            source_url=url,
            source_title=title,
            read_at=row.changed_at,
        )
        changes.append(change)
        latest[(row.tool_id, key, url)] = change
        if len(changes) >= BATCH:
            FactChange.objects.bulk_create(changes)
            changes = []
    FactChange.objects.bulk_create(changes)
    Fact.objects.bulk_create(
        (
            Fact(
                tool_id=c.tool_id,
                key=c.key,
                value=c.new,
                source_url=c.source_url,
                source_title=c.source_title,
                read_at=c.read_at,
                changed_at=c.read_at,
            )
            for c in latest.values()
            if c.new
        ),
        batch_size=BATCH,
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_facts")]

    operations = [migrations.RunPython(copy_price_changes, migrations.RunPython.noop)]
