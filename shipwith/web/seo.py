"""OpenGraph text and JSON-LD for tool and comparison pages."""

from django.conf import settings

from shipwith.catalog.models import PriceKind, Tool
from shipwith.web.selectors import Card, ComparisonPage


def absolute(path: str) -> str:
    return settings.SHIPWITH_BASE_URL + path


def _application(tool: Tool) -> dict:
    data = {
        "@type": "SoftwareApplication",
        "name": tool.name,
        "description": tool.tagline or tool.description[:300],
        "applicationCategory": tool.category.name,
        "url": absolute(tool.get_absolute_url()),
    }
    if tool.vendor_id:
        data["author"] = {"@type": "Organization", "name": tool.vendor.name}
    if tool.price_kind == PriceKind.FREE:
        data["offers"] = {"@type": "Offer", "price": "0", "priceCurrency": "USD"}
    elif tool.price_kind == PriceKind.AMOUNT and tool.price_amount is not None:
        data["offers"] = {
            "@type": "Offer",
            "price": f"{tool.price_amount:f}".rstrip("0").rstrip("."),
            "priceCurrency": tool.price_currency,
        }
    return data


def tool_jsonld(card: Card) -> dict:
    data = {"@context": "https://schema.org", **_application(card.tool)}
    data["review"] = [
        {
            "@type": "Review",
            "author": {"@type": "Organization", "name": f"shipwith panel — {r.persona.name}"},
            "datePublished": r.created_at.date().isoformat(),
            "reviewBody": r.take,
            "name": f"{r.persona.name}: {r.get_verdict_display()}",
        }
        for r in card.panel.reviews
    ]
    return data


def comparison_jsonld(page: ComparisonPage, path: str) -> dict:
    a, b = page.a.tool, page.b.tool
    return {
        "@context": "https://schema.org",
        "@type": "WebPage",
        "name": f"{a.name} vs {b.name}: which one should you ship with?",
        "url": absolute(path),
        "about": [_application(a), _application(b)],
    }
