"""Prices and context sizes a take states, read from its text and held against the facts."""

import datetime as dt
from decimal import Decimal

import pytest

from shipwith.catalog.selectors import FactReading, FactRow, FactSource
from shipwith.panel.numbers import figure_compare, figures_check, figures_find

READ = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def fact(key: str, value, *others) -> FactRow:
    label = {
        "input_price_per_mtok": "Input price",
        "output_price_per_mtok": "Output price",
        "context_window": "Context window",
    }[key]
    unit = " tokens" if key == "context_window" else " per 1M tokens"

    def text(v) -> str:
        return f"{v:,}{unit}" if key == "context_window" else f"${v}{unit}"

    conflicts = tuple(
        FactReading(other, text(other), FactSource("https://b.example", "B"), READ, False)
        for other in others
    )
    source = FactSource("https://a.example/pricing", "A pricing")
    return FactRow(key, label, "", value, text(value), source, READ, False, conflicts)


FACTS = [
    fact("input_price_per_mtok", Decimal("0.15")),
    fact("output_price_per_mtok", Decimal("0.60")),
    fact("context_window", 128000),
]


def found(text: str) -> list[tuple[str, tuple[Decimal, ...], str]]:
    return [(figure.kind, figure.readings, figure.side) for figure in figures_find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$0.60 per 1M tokens", [("price", ("0.60",), "")]),
        ("60 cents per million output tokens", [("price", ("0.60",), "output")]),
        ("7.5 cents per 1M tokens", [("price", ("0.075",), "")]),
        ("$9 per 1M input tokens", [("price", ("9",), "input")]),
        ("$0.15 per million input tokens", [("price", ("0.15",), "input")]),
        ("$1,200 per million tokens", [("price", ("1200",), "")]),
        ("$2.50/MTok", [("price", ("2.50",), "")]),
        ("$3 / 1M output", [("price", ("3",), "output")]),
        ("0.60 USD per 1M prompt tokens", [("price", ("0.60",), "input")]),
        ("$.50 per one million completion tokens", [("price", ("0.50",), "output")]),
        ("Output costs $0.60/M.", [("price", ("0.60",), "output")]),
        (
            "input is $0.15 per 1M tokens and output $0.60 per 1M tokens",
            [("price", ("0.15",), "input"), ("price", ("0.60",), "output")],
        ),
        (
            "$0.15/$0.60 per 1M input/output tokens",
            [("price", ("0.15",), "input"), ("price", ("0.60",), "output")],
        ),
        ("$0.15/$0.60 per 1M tokens", [("price", ("0.15",), ""), ("price", ("0.60",), "")]),
        ("$0.60 per 1M input/output tokens", [("price", ("0.60",), "")]),
        ("a 128k context window", [("context", ("128000", "131072"), "")]),
        ("128K tokens of context", [("context", ("128000", "131072"), "")]),
        ("a 128,000-token window", [("context", ("128000",), "")]),
        ("a 1M-token context", [("context", ("1000000", "1048576"), "")]),
        ("1.5 million token context", [("context", ("1500000",), "")]),
        ("context window of up to 200k tokens", [("context", ("200000", "204800"), "")]),
        ("its context length is only 8,192 tokens", [("context", ("8192",), "")]),
    ],
)
def test_figures_are_read_as_written(text, expected):
    assert found(text) == [
        (kind, tuple(Decimal(reading) for reading in readings), side)
        for kind, readings, side in expected
    ]


@pytest.mark.parametrize(
    "text",
    [
        "$5 per 1M requests",  # not a token price
        "$0.075 per 1M cached input tokens",
        "cached input: $0.075 per 1M tokens",
        "the batch API charges $0.30 per 1M tokens",
        "$25 per 1M training tokens",
        "$20 per month",
        "$0.002 per 1K tokens",  # per thousand: not read, rather than misread
        "it juggles two context windows",
        "in 2 context windows",
        "a 30-day window",
        "12 months of context",
        "v2 context",
    ],
)
def test_what_is_not_a_token_price_or_a_context_size_is_left_alone(text):
    assert figures_find(text) == []


def outcome(text: str, facts=FACTS) -> str:
    (figure,) = figures_find(text)
    return figure_compare(figure, facts)[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$0.15 per million input tokens", "supported"),
        ("$9 per 1M input tokens", "contradicted"),
        ("60 cents per million output tokens", "supported"),
        ("$0.15 per 1M output tokens", "contradicted"),  # the input price, said of output
        ("$0.60 per 1M tokens", "supported"),  # no side: either price may hold it
        ("$0.30 per 1M tokens", "contradicted"),  # neither does
        ("$0.6 per 1M output tokens", "supported"),
        ("$0.61 per 1M output tokens", "supported"),  # within 2%
        ("$0.62 per 1M output tokens", "contradicted"),
        ("$1 per 1M output tokens", "contradicted"),  # "rounded" by 40%: not a rounding
        ("a 128k context window", "supported"),
        ("a 128,000-token window", "supported"),
        ("a 131k context", "supported"),
        ("an 8k context", "contradicted"),
        ("a 1M-token context", "contradicted"),
    ],
)
def test_a_figure_is_supported_or_contradicted_by_the_facts(text, expected):
    assert outcome(text) == expected


def test_rounding_to_the_figures_own_digit_is_not_a_contradiction():
    facts = [fact("input_price_per_mtok", Decimal("0.075"))]
    assert outcome("$0.07 per 1M input tokens", facts) == "supported"
    assert outcome("7.5 cents per 1M input tokens", facts) == "supported"
    assert outcome("$0.1 per 1M input tokens", facts) == "contradicted"


def test_k_and_m_are_read_as_thousands_or_as_powers_of_two():
    assert outcome("an 8k context", [fact("context_window", 8192)]) == "supported"
    assert outcome("a 1M context window", [fact("context_window", 1048576)]) == "supported"
    assert outcome("a 32k context", [fact("context_window", 8192)]) == "contradicted"


def test_a_disputed_fact_supports_every_value_its_sources_give():
    facts = [fact("output_price_per_mtok", Decimal("0.60"), Decimal("0.50"))]
    assert outcome("$0.50 per 1M output tokens", facts) == "supported"
    assert outcome("$0.40 per 1M output tokens", facts) == "contradicted"


def test_without_the_fact_a_figure_is_neither_supported_nor_contradicted():
    assert outcome("a 200k context", [FACTS[0]]) == "unknown"
    # No side, and only the input price known: it may be the output price.
    assert outcome("$3 per 1M tokens", [FACTS[0]]) == "unknown"


def test_the_check_flags_each_contradicted_figure_with_what_the_facts_say():
    take = (
        "At $9 per 1M input tokens and $0.60 per 1M output tokens with a 128k context window, "
        "the math works; an 8k window would not."
    )
    check = figures_check(take, FACTS)
    assert [figure.text for figure in check.supported] == [
        "$0.60 per 1M output tokens",
        "128k context",
    ]
    assert check.flags == [
        'states "$9 per 1M input tokens" where the facts say input price $0.15 per 1M tokens',
        'states "8k window" where the facts say context window 128,000 tokens',
    ]
