"""Turn the values sources give into our normalised facts, refusing what does not fit.

Every function raises `ValueError` with a message naming the field and the value when the input
is not what the source documents (a price of "-1" or "abc", a date of "yesterday") or is more
than the catalog can store (a price of "1e30"), so an adapter can report that one item and go
on with the others.
"""

import ipaddress
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.db import models

from shipwith.catalog.facts import Value, fact_key
from shipwith.catalog.models import Tool
from shipwith.core.text import plain_text

MILLION = Decimal(1_000_000)
BILLION = Decimal(1_000_000_000)
PER_MTOK = "USD per 1M tokens"
# The largest integer SQLite and PostgreSQL's bigint store (and Python's json writes back).
LARGEST_WHOLE = 2**63 - 1

# Licence ids as Hugging Face, GitHub and package indexes spell them → SPDX (lower-case keys).
SPDX = {
    name.lower(): name
    for name in (
        "Apache-2.0 MIT BSD-2-Clause BSD-3-Clause BSD-3-Clause-Clear ISC 0BSD Unlicense "
        "GPL-2.0 GPL-3.0 LGPL-2.1 LGPL-3.0 AGPL-3.0 MPL-2.0 EPL-1.0 EPL-2.0 EUPL-1.1 EUPL-1.2 "
        "BSL-1.0 Zlib PostgreSQL Artistic-2.0 AFL-3.0 OSL-3.0 ECL-2.0 MS-PL NCSA OFL-1.1 "
        "CC0-1.0 CC-BY-4.0 CC-BY-SA-4.0 CC-BY-NC-4.0 CC-BY-NC-SA-4.0 CC-BY-NC-ND-4.0 "
        "CC-BY-3.0 CC-BY-SA-3.0 CC-BY-NC-3.0 CC-BY-NC-SA-3.0 CC-BY-2.0 ODbL-1.0 PDDL-1.0"
    ).split()
}
# Model licences that are not SPDX ids but name one licence exactly.
NAMED = {
    "llama2": "Llama 2 Community License",
    "llama3": "Llama 3 Community License",
    "llama3.1": "Llama 3.1 Community License",
    "llama3.2": "Llama 3.2 Community License",
    "llama3.3": "Llama 3.3 Community License",
    "llama4": "Llama 4 Community License",
    "gemma": "Gemma Terms of Use",
    "openrail": "OpenRAIL",
    "openrail++": "OpenRAIL++",
    "creativeml-openrail-m": "CreativeML-OpenRAIL-M",
    "bigscience-openrail-m": "BigScience-OpenRAIL-M",
    "bigcode-openrail-m": "BigCode-OpenRAIL-M",
    "bigscience-bloom-rail-1.0": "BigScience-BLOOM-RAIL-1.0",
}
ALIASES = {"gpl-3.0-only": "GPL-3.0", "gpl-2.0-only": "GPL-2.0", "agpl-3.0-only": "AGPL-3.0"}
# OSI-approved: code under these is open source.
OPEN_SOURCE = {
    "Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "BSD-3-Clause-Clear", "ISC", "0BSD",
    "Unlicense", "GPL-2.0", "GPL-3.0", "LGPL-2.1", "LGPL-3.0", "AGPL-3.0", "MPL-2.0", "EPL-1.0",
    "EPL-2.0", "EUPL-1.1", "EUPL-1.2", "BSL-1.0", "Zlib", "PostgreSQL", "Artistic-2.0", "AFL-3.0",
    "OSL-3.0", "ECL-2.0", "MS-PL", "NCSA", "OFL-1.1",
}  # fmt: skip
LICENCE_SITES = {"opensource.org", "spdx.org", "choosealicense.com"}
UNKNOWN = {"", "other", "unknown", "noassertion", "none", "proprietary", "custom"}
# Hosts many tools share: a homepage there says nothing about which tool it is.
SHARED_HOSTS = {
    "github.com", "gitlab.com", "huggingface.co", "pypi.org", "npmjs.com", "www.npmjs.com",
    "news.ycombinator.com", "medium.com", "substack.com", "x.com", "twitter.com",
    "youtube.com", "linkedin.com", "discord.gg", "docs.google.com", "arxiv.org",
    "producthunt.com", "reddit.com", "vercel.app", "github.io", "notion.site",
}  # fmt: skip


def licence_spdx(value: Any) -> str | None:
    """SPDX id of a licence ("apache-2.0" → "Apache-2.0"); None unless we can name it exactly."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"licence {value!r} is not text")
    key = value.strip().lower().removeprefix("license:")
    if "://" in key:
        key = _licence_from_url(key)
    if key in UNKNOWN:
        return None
    key = ALIASES.get(key, key)
    return SPDX.get(key) or NAMED.get(key)


def _licence_from_url(url: str) -> str:
    """The licence id in a licence page's URL (JSON-LD gives URLs), else ""."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    segments = [segment for segment in parts.path.split("/") if segment]
    if host == "apache.org" and segments[-1:] == ["license-2.0"]:
        return "apache-2.0"
    if host in LICENCE_SITES and len(segments) >= 2 and segments[0] == "licenses":
        return segments[1].removesuffix(".html").removesuffix(".php")
    return ""


def licence_kind(licence: str | None, *, weights: bool = False) -> str | None:
    """The catalog's licence kind: downloadable weights, OSI code, or None when unknown."""
    if weights:
        return "open_weights"
    if licence in OPEN_SOURCE:
        return "open_source"
    return None


def homepage_domain(url: Any) -> str | None:
    """The host of a tool's own homepage, lower case without "www."; None for shared hosts."""
    text = homepage_url(url)
    if text is None:
        return None
    host = (urlsplit(text).hostname or "").rstrip(".").lower()
    host = host.removeprefix("www.")
    if host in SHARED_HOSTS or any(host.endswith("." + shared) for shared in SHARED_HOSTS):
        return None
    return host or None


def web_url(value: Any) -> str | None:
    """An http(s) URL as given ("quill.example" gains https://); None for anything else."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if "://" not in text and "." in text and " " not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
        return None
    try:
        parts.port  # noqa: B018 - raises on "host:notaport"
    except ValueError:
        return None
    return text


def homepage_url(value: Any) -> str | None:
    """A web URL fit to be a tool's homepage: its host is a name ("http://10.0.0.1/",
    "localhost" are not), so javascript:, bare words, addresses and blanks give None."""
    text = web_url(value)
    if text is None:
        return None
    host = urlsplit(text).hostname or ""
    if _is_address(host) or "." not in host:
        return None
    return text


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def github_repo(url: Any) -> str | None:
    """The "owner/repo" of a GitHub URL, lower case; None for other URLs."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    if (parts.hostname or "").lower().removeprefix("www.") != "github.com":
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) < 2:
        return None
    return f"{segments[0]}/{segments[1].removesuffix('.git')}".lower()


def _tidy(value: Decimal) -> Decimal:
    """2.5000000 → 2.5 and 100 stays 100 (not 1E+2)."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def column_decimal(
    model: type[models.Model], name: str, value: Decimal, *, field: str, shown: str, unit: str
) -> Decimal:
    """`value` rounded to the places the decimal column `model.name` keeps, as it will be stored.

    ValueError naming `field` and the value as given (`shown`) when the column cannot hold it:
    PostgreSQL refuses it, and SQLite stores it but cannot read it back.
    """
    column = model._meta.get_field(name)
    step = Decimal(1).scaleb(-column.decimal_places)
    largest = Decimal(10) ** (column.max_digits - column.decimal_places) - step
    if not -largest <= value <= largest:  # compared before rounding: 1e30 cannot be rounded
        raise ValueError(
            f"{field} {shown} is beyond what the catalog holds (at most {largest} {unit})"
        )
    return value.quantize(step)


def price_per_mtok(value: Any, *, field: str, per_token: bool) -> Decimal | None:
    """A price in USD per 1M tokens from a per-token string (OpenRouter) or a per-1M number,
    rounded to the places the catalog keeps.

    None stays None (the source does not say); "-1", "abc", NaN, booleans, and prices no tool's
    price column holds are refused.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{field} {value!r} is not a price")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{field} {value!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"{field} {value!r} is not a number")
    if amount < 0:
        raise ValueError(f"{field} {value!r} is negative")
    try:
        per_mtok = amount * MILLION if per_token else amount
    except ArithmeticError:  # beyond what Decimal itself holds ("1e999999")
        per_mtok = Decimal("Infinity")
    price = column_decimal(
        Tool, "price_amount", per_mtok, field=field, shown=repr(value), unit=PER_MTOK
    )
    return _tidy(price)


def when(value: Any, *, field: str) -> datetime | None:
    """A timestamp from ISO 8601 text ("2024-07-18T00:00:00Z") or Unix seconds; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{field} {value!r} is not a date")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{field} {value!r} is not a valid Unix time") from None
    if not isinstance(value, str):
        raise ValueError(f"{field} {value!r} is not a date")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field} {value!r} is not a date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def day(value: Any, *, field: str) -> date | None:
    """A date from "2024-05-13" or "2024-05" (models.dev allows a month: the 1st is taken)."""
    if value is None:
        return None
    if isinstance(value, str) and len(value.strip()) == 7:
        return when(value.strip() + "-01", field=field).date()
    moment = when(value, field=field)
    return moment.date() if moment else None


def text(value: Any, *, field: str, required: bool = False) -> str | None:
    """Plain text (markup stripped) or None; a number or list where text belongs is refused.

    `required`: the source documents the field as always text, so null is an error too.
    """
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} {value!r} is not text")
    return plain_text(value) or None


def whole(value: Any, *, field: str, default: int | None = None) -> int | None:
    """A non-negative whole number (likes, downloads, context length) a database can store."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{field} {value!r} is not a whole number")
    if value > LARGEST_WHOLE:
        raise ValueError(f"{field} {value!r} is beyond what the catalog holds")
    return value


def fact(key: str, value: Any, *, field: str) -> Value | None:
    """`value` as the catalog's fact `key` holds it (parsed by its registry, catalog/facts.py),
    or ValueError naming the source's `field` and the value; None stays None."""
    if value is None:
        return None
    try:
        return fact_key(key).type.parse(value)
    except ValueError as exc:
        raise ValueError(f"{field} {value!r} {exc}") from None


def tokens(value: Any, *, key: str, field: str) -> int | None:
    """A token limit (context window, longest output); 0 is a source's "not given" (models.dev
    allows 0 where a limit does not apply), never a limit."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return None
    return fact(key, value, field=field)


def modalities(value: Any, *, key: str, field: str) -> list[str] | None:
    """A list of modalities ("text", "image"…) as the registry keeps it; an empty list says
    nothing."""
    if value is None or value == []:
        return None
    return list(fact(key, value, field=field))


def billions(value: Any, *, field: str) -> Decimal | None:
    """A count of parameters (Hugging Face's `safetensors.total`) in billions, as the registry's
    `parameters` holds it."""
    count = whole(value, field=field)
    if count is None:
        return None
    try:
        return fact_key("parameters").type.parse(Decimal(count) / BILLION)
    except ValueError as exc:
        raise ValueError(f"{field} {value!r} in billions {exc}") from None
