"""Read a fetched web page as data: its main text, and what its JSON-LD / OpenGraph say.

A page is untrusted. Everything kept is plain text (no markup survives; script and style
content is dropped), clipped to a size the panel can quote from, and instructions written in
the page ("ignore previous instructions…") stay words in the text: nothing here acts on them.
"""

import logging
from typing import Any

import extruct
import trafilatura
from trafilatura.utils import decode_file

from shipwith.core.text import plain_text
from shipwith.ingest.fetch import Fetched, Fetcher, ValidatorStore
from shipwith.ingest.items import Page

logger = logging.getLogger(__name__)

MAX_TEXT = 50_000  # characters of main text kept as the snapshot
MAX_FIELD = 500  # characters of one metadata value
SOFTWARE_TYPES = (
    "SoftwareApplication",
    "WebApplication",
    "MobileApplication",
    "SoftwareSourceCode",
    "Product",
    "Service",
)
OPENGRAPH = {
    "og:title": "name",
    "og:description": "description",
    "og:site_name": "site_name",
    "og:type": "type",
    "article:author": "author",
}


def page_read(fetched: Fetched) -> Page:
    """Main text with trafilatura, metadata with extruct; a page that cannot be read is empty."""
    # Without a charset in Content-Type, the page's own <meta charset> or a guess decides.
    html = fetched.text() if fetched.charset else decode_file(fetched.body)
    url = fetched.final_url or fetched.url
    metadata = _metadata(html, url)
    text = _main_text(html, url)
    title = metadata.get("name") or _title(html)
    return Page(
        url=url,
        title=_clip(title, MAX_FIELD),
        text=_clip(text, MAX_TEXT),
        fetched_at=fetched.fetched_at,
        metadata=metadata,
    )


def page_fetch(
    url: str, *, fetcher: Fetcher, validators: ValidatorStore | None = None
) -> Page | None:
    """Fetch a page (robots.txt honoured, conditional GET) and read it; None when it is unchanged.

    Raises FetchError when the page cannot be fetched (refused, disallowed, HTTP error…).
    """
    fetched = fetcher.get(url, expect="html", robots=True, validators=validators)
    return None if fetched.not_modified else page_read(fetched)


def _main_text(html: str, url: str) -> str:
    try:
        extracted = trafilatura.extract(
            html, url=url, include_comments=False, include_tables=True, output_format="txt"
        )
    except Exception:  # trafilatura's parsers raise many kinds on hostile markup
        logger.warning("trafilatura could not read %s", url, exc_info=True)
        extracted = None
    # Stripping again: text that trafilatura kept can still spell a tag ("&lt;script&gt;").
    return plain_text(extracted or html)


def _title(html: str) -> str:
    try:
        metadata = trafilatura.extract_metadata(html)
    except Exception:
        return ""
    return plain_text(metadata.title or "") if metadata else ""


def _metadata(html: str, url: str) -> dict[str, str]:
    try:
        data = extruct.extract(
            html, base_url=url, syntaxes=["json-ld", "opengraph"], uniform=True, errors="ignore"
        )
    except Exception:
        logger.warning("extruct could not read %s", url, exc_info=True)
        return {}
    found: dict[str, str] = {}
    for key, value in _json_ld(data.get("json-ld") or []).items():
        _keep(found, key, value)
    for record in data.get("opengraph") or []:
        if isinstance(record, dict):
            for prop, key in OPENGRAPH.items():
                _keep(found, key, record.get(prop))
    return found


def _json_ld(records: list[Any]) -> dict[str, Any]:
    """The first software-like JSON-LD object's name, description, licence, price and author."""
    nodes: list[dict] = []
    for record in records:
        if not isinstance(record, dict):
            continue
        graph = record.get("@graph")
        if isinstance(graph, list):
            nodes.extend(node for node in graph if isinstance(node, dict))
        else:
            nodes.append(record)
    software = [node for node in nodes if _is_software(node.get("@type"))]
    if not software:
        return {}
    node = software[0]
    offers = node.get("offers")
    offer = offers[0] if isinstance(offers, list) and offers else offers
    offer = offer if isinstance(offer, dict) else {}
    return {
        "name": node.get("name"),
        "description": node.get("description"),
        "licence": _name_of(node.get("license")),
        "price": offer.get("price") if offer.get("price") is not None else offer.get("lowPrice"),
        "price_currency": offer.get("priceCurrency"),
        "author": _name_of(node.get("author") or node.get("creator") or node.get("publisher")),
        "category": node.get("applicationCategory"),
        "type": node.get("@type") if isinstance(node.get("@type"), str) else None,
    }


def _is_software(kind: Any) -> bool:
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and k.split("/")[-1] in SOFTWARE_TYPES for k in kinds)


def _name_of(value: Any) -> Any:
    """A JSON-LD value that may be text, a {"name": …} object or a list of either.

    A list in a list names nothing: a page may nest lists hundreds deep, and following them
    would recurse past Python's limit.
    """
    if isinstance(value, list):
        names = [_one_name(entry) for entry in value[:5]]
        return ", ".join(str(name) for name in names if isinstance(name, str | int | float))
    return _one_name(value)


def _one_name(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("name") or value.get("url") or value.get("@id")
    return value


def _keep(found: dict[str, str], key: str, value: Any) -> None:
    if key in found or value is None or isinstance(value, bool):
        return
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str | int | float):
        return
    text = _clip(plain_text(str(value)), MAX_FIELD)
    if text:
        found[key] = text


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split()) if limit <= MAX_FIELD else text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
