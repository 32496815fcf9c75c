"""Turn untrusted text (catalog files, LLM output) into plain text."""

import html

import nh3


def plain_text(value: str) -> str:
    """Strip every HTML tag (and the content of script/style) and return plain, unescaped text."""
    if "<" not in value and "&" not in value:
        return value.strip()
    return html.unescape(nh3.clean(value, tags=set(), attributes={})).strip()
