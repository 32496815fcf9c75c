"""plain_text reaches a fixed point with no tag in it, or refuses the value."""

import html
from html.parser import HTMLParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shipwith.core.text import MAX_PASSES, UnsettledText, plain_text, plain_text_or_empty

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)

# Pieces of hostile markup: tags whole and broken, entities named, numeric, legacy (no
# semicolon), upper-case and zero-padded, fullwidth look-alikes and percent-encoding.
FRAGMENTS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<svg/onload=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<b",
    "</",
    "<<b>img src=x onerror=alert(1)>",
    "<!--",
    "-->",
    "<![CDATA[",
    "&lt;",
    "&gt;",
    "&lt",
    "&LT;",
    "&#60;",
    "&#060;",
    "&#0000060;",
    "&#x3C;",
    "&#X3c;",
    "&amp;",
    "&amp;lt;",
    "&",
    ";",
    "=",
    '"',
    "'",
    "onerror",
    "img",
    "\uff1cimg\uff1e",
    "%3Cimg%3E",
    "é",
    "\u00a0",
    "\x00",
]


def entity_encode(value: str, levels: int) -> str:
    for _ in range(levels):
        value = html.escape(value, quote=False)
    return value


hostile = st.builds(
    entity_encode,
    st.lists(st.sampled_from(FRAGMENTS) | text, max_size=12).map("".join),
    st.integers(0, 6),
)


class Tags(HTMLParser):
    """Every element an HTML parser finds in a string."""

    def __init__(self, value: str):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.feed(value)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append(tag)

    handle_startendtag = handle_starttag


def assert_is_text(result: str) -> None:
    assert plain_text(result) == result, "not a fixed point"
    assert Tags(result).found == [], result
    # Shown through an escaping template or an escaped feed summary, it reads back unchanged.
    assert html.unescape(html.escape(result)) == result


@settings(max_examples=300)
@given(text)
def test_plain_text_of_any_text_is_a_fixed_point_without_tags(value):
    assert_is_text(plain_text(value))


@settings(max_examples=300)
@given(hostile)
@example(entity_encode("<img src=x onerror=alert(1)>", 6))
@example("&amp;amp;amp;amp;amp;lt;img src=x onerror=alert(1)&amp;amp;amp;amp;amp;gt;")
@example("<<script>script>alert(1)<</script>/script>")
def test_nested_entities_mixed_encodings_and_broken_tags_never_yield_a_tag(value):
    assert_is_text(plain_text(value))


def test_markup_becomes_its_text():
    assert plain_text("<b>Fast</b> &amp; <i>cheap</i>") == "Fast & cheap"
    assert plain_text("<script>alert(1)</script>Safe") == "Safe"
    assert plain_text("&lt;script&gt;alert(1)&lt;/script&gt;ok") == "ok"
    assert plain_text("a < b and c > d") == "a < b and c > d"
    assert plain_text("AT&T ships 3 < 4") == "AT&T ships 3 < 4"


def test_six_layers_of_entities_around_a_tag_leave_no_tag():
    # The old cleaner stopped after five passes and handed this back as a live <img> tag.
    assert plain_text(entity_encode("<img src=x onerror=alert(1)>", 6)) == ""


def test_text_that_never_settles_is_refused_with_a_reason():
    value = entity_encode("<img src=x onerror=alert(1)>", MAX_PASSES + 2)
    with pytest.raises(UnsettledText, match="after 32 rounds"):
        plain_text(value)
    assert plain_text_or_empty(value) == ""
    assert isinstance(UnsettledText("x"), ValueError)  # validators report it as bad input
