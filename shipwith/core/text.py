"""Turn untrusted text (catalog files, LLM output) into plain text."""

import html

import nh3


def _strip_once(value: str) -> str:
    return html.unescape(nh3.clean(value, tags=set(), attributes={})).strip()


def plain_text(value: str) -> str:
    """Strip every HTML tag (and the content of script/style) and return plain, unescaped text.

    Unescaping can reveal a tag ("&lt;b&gt;" becomes "<b>"), so strip until nothing changes:
    the result is stable, and re-importing an export stores exactly the same text.
    """
    value = value.strip()
    for _ in range(5):
        if "<" not in value and "&" not in value:
            return value
        stripped = _strip_once(value)
        if stripped == value:
            return value
        value = stripped
    return value
