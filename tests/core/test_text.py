from hypothesis import given
from hypothesis import strategies as st

from shipwith.core.text import plain_text

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)


@given(text)
def test_plain_text_is_stable(value):
    once = plain_text(value)
    assert plain_text(once) == once


@given(text)
def test_plain_text_leaves_no_tags(value):
    result = plain_text(value)
    assert plain_text(result) == result
    assert "<script" not in result.lower() and "<img" not in result.lower()


def test_markup_becomes_its_text():
    assert plain_text("<b>Fast</b> &amp; <i>cheap</i>") == "Fast & cheap"
    assert plain_text("<script>alert(1)</script>Safe") == "Safe"
    assert plain_text("&lt;script&gt;alert(1)&lt;/script&gt;ok") == "ok"
    assert plain_text("a < b and c > d") == "a < b and c > d"
