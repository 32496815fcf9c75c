"""Turn untrusted text (catalog files, LLM output, fetched pages) into plain text."""

import html

import nh3

# Each pass peels one layer of entity encoding ("&amp;lt;" → "&lt;" → "<"), so a value that
# still changes after this many passes was built to hide markup: refuse it rather than guess.
MAX_PASSES = 32


class UnsettledText(ValueError):
    """The text kept revealing new markup after MAX_PASSES rounds of cleaning."""


def _strip_once(value: str) -> str:
    return html.unescape(nh3.clean(value, tags=set(), attributes={})).strip()


def plain_text(value: str) -> str:
    """Strip every HTML tag (and the content of script/style) and return plain, unescaped text.

    Unescaping can reveal a tag ("&lt;b&gt;" becomes "<b>"), so strip until nothing changes.
    The result is a fixed point: cleaning it again gives it back unchanged, so an HTML parser
    finds no tag in it and re-importing an export stores exactly the same text. A value that
    does not settle raises UnsettledText (a ValueError) instead of being returned half-clean.
    """
    value = value.strip()
    if "<" not in value and "&" not in value:
        return value
    for _ in range(MAX_PASSES):
        stripped = _strip_once(value)
        if stripped == value:
            return value
        value = stripped
    raise UnsettledText(
        f"text still reveals markup after {MAX_PASSES} rounds of unescaping "
        f"(nested entities?): {value[:60]!r}"
    )


def plain_text_or_empty(value: str) -> str:
    """plain_text, or "" for a value that does not settle (for text nobody is waiting on)."""
    try:
        return plain_text(value)
    except UnsettledText:
        return ""


def web_url(url: str) -> str:
    """The address when it is a web page to link to; "" for javascript:, data: and the like."""
    return url if url.strip().lower().startswith(("https://", "http://")) else ""
