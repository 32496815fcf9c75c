"""Turn the values sources give into our normalised facts, refusing what does not fit.

Every function raises `ValueError` with a message naming the field and the value when the input
is not what the source documents (a price of "-1" or "abc", a date of "yesterday"), so an
adapter can report that one item and go on with the others.
"""

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from shipwith.core.text import plain_text

MILLION = Decimal(1_000_000)

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
    if key in UNKNOWN:
        return None
    key = ALIASES.get(key, key)
    return SPDX.get(key) or NAMED.get(key)


def licence_kind(licence: str | None, *, weights: bool = False) -> str | None:
    """The catalog's licence kind: downloadable weights, OSI code, or None when unknown."""
    if weights:
        return "open_weights"
    if licence in OPEN_SOURCE:
        return "open_source"
    return None


def homepage_domain(url: Any) -> str | None:
    """The host of a tool's own homepage, lower case without "www."; None for shared hosts."""
    if not isinstance(url, str) or not url.strip():
        return None
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.rstrip(".").lower()
    host = host.removeprefix("www.")
    if host in SHARED_HOSTS or any(host.endswith("." + shared) for shared in SHARED_HOSTS):
        return None
    return host or None


def homepage_url(value: Any) -> str | None:
    """An http(s) URL as given, or None for anything else (javascript:, bare words, blanks)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if "://" not in text and "." in text and " " not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return text


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


def price_per_mtok(value: Any, *, field: str, per_token: bool) -> Decimal | None:
    """A price in USD per 1M tokens from a per-token string (OpenRouter) or a per-1M number.

    None stays None (the source does not say); "-1", "abc", NaN, booleans are refused.
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
    return _tidy(amount * MILLION if per_token else amount)


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
    """A non-negative whole number (likes, downloads, context length)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{field} {value!r} is not a whole number")
    return value
