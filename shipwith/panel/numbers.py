"""Figures a review states (a price per 1M tokens, a context size) checked against the facts.

`figures_find` reads "$0.60 per 1M tokens", "60 cents per million output tokens", "$2.50/MTok",
"128k context", "a 128,000-token window", "context window of 1M tokens". It misses rather than
guesses: a price per million of something other than tokens ("per 1M requests", "per 1M cached
input tokens", a batch price) is not a figure here, and neither is a count too small to be a
context window.

`figure_compare` decides, for a figure and the facts of its key (the value shown and every
reading that disagrees with it), one of: supported, contradicted, or unknown (no fact to hold it
against). A price is supported within 2% of a fact, or when it is that fact rounded to the
figure's own last digit and off by less than 10% ("$0.07" for $0.075, never "$3" for $2.50).
A context size is supported within 3% of a fact, reading k and M both as 1,000 and 1,024
("128k" is 128,000 or 131,072 tokens; "8k" is 8,192). A price that names no side (input or
output) is checked against both and contradicted only when both are known and neither agrees.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from shipwith.catalog.selectors import FactRow

INPUT_PRICE, OUTPUT_PRICE = "input_price_per_mtok", "output_price_per_mtok"
CONTEXT = "context_window"
PRICE_TOLERANCE = Decimal("0.02")
ROUNDING_TOLERANCE = Decimal("0.10")
CONTEXT_TOLERANCE = Decimal("0.03")
MIN_CONTEXT = 512  # below this a "context" number is something else ("2 context windows")

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
_SIDES = {"input": "input", "prompt": "input", "output": "output", "completion": "output"}
_SIDE = r"input|output|prompt|completion"
_PRICE = re.compile(
    rf"""
    (?<![\w.,$])
    (?: (?:US)?\$\s?(?P<dollars>{_NUM}) | (?P<usd>{_NUM})\s?(?:USD|dollars?)\b
      | (?P<cents>{_NUM})\s?(?:cents?\b|¢) )
    (?:[\s-]+(?P<side_mid>{_SIDE})\b)?
    \s*(?:/|\b(?:per|for|every|each|an?)\b)\s*
    (?:(?:every|each|an?|one)\s+|1\s*)?
    (?: (?P<mtok>m\s?toks?\b) | (?:million|mn|m)\b | 1,000,000\b )
    (?:[\s-]+(?P<side_after>{_SIDE})\b(?:\s*/\s*(?P<both>{_SIDE})\b)?)?
    (?:[\s-]+(?P<tokens>tokens?|toks?)\b)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
# "$0.15/$0.60 per 1M input/output tokens": the first price of a pair, just before the second.
_FIRST_OF_PAIR = re.compile(rf"(?<![\w.,$])(?:US)?\$\s?(?P<dollars>{_NUM})\s*/\s*$", re.I)
_SCALE = {"k": 1000, "thousand": 1000, "m": 1_000_000, "million": 1_000_000}
_BINARY = {"k": 1024, "m": 1_048_576}
_COUNT = rf"(?P<num>{_NUM})\s?(?P<suffix>k|m|thousand|million)?\b"
_CONTEXT_AFTER = re.compile(
    rf"(?<![\w.,$]){_COUNT}(?:[\s-]*tokens?)?(?:\s+of)?[\s-]*(?:context|window)\b",
    re.IGNORECASE,
)
_FILLER = r"of|is|was|at|to|up|only|just|about|around|roughly|reaches|tops|maxes|out|limit|now"
_CONTEXT_BEFORE = re.compile(
    rf"\bcontext(?:[\s-]+(?:window|length|size))?(?:[\s:=]+(?:{_FILLER})\b)*[\s:=]+"
    rf"~?{_COUNT}(?:[\s-]*tokens?)?",
    re.IGNORECASE,
)
# Prices that are not the list price per token of the model: never held against it.
_OTHER_PRICE = re.compile(r"\b(?:cach(?:e|ed|ing)|batch(?:ed)?|fine-?tun\w*|training)\b", re.I)


@dataclass(frozen=True)
class Figure:
    """A number a review states: dollars per 1M tokens, or a context size in tokens."""

    kind: Literal["price", "context"]
    readings: tuple[Decimal, ...]  # what the text may mean: "128k" is 128,000 or 131,072
    text: str  # as written
    side: str = ""  # a price's "input" or "output"; "" when the text does not say
    step: Decimal = Decimal(0)  # a price's last stated digit: 0.01 for "$0.07"

    @property
    def keys(self) -> tuple[str, ...]:
        if self.kind == "context":
            return (CONTEXT,)
        return {"input": (INPUT_PRICE,), "output": (OUTPUT_PRICE,)}.get(
            self.side, (INPUT_PRICE, OUTPUT_PRICE)
        )


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _step(text: str) -> Decimal:
    """One unit in the last digit written: "0.07" → 0.01, "15" → 1."""
    places = len(text.partition(".")[2])
    return Decimal(1).scaleb(-places)


def _side_before(text: str, start: int) -> str:
    """The side named just before a price, in its own clause: "output costs $0.60 per…"."""
    window = re.split(r"[\d;!?]|\.\s", text[max(0, start - 40) : start])[-1]
    sides = {_SIDES[word.lower()] for word in re.findall(rf"\b(?:{_SIDE})\b", window, re.I)}
    return sides.pop() if len(sides) == 1 else ""


def _prices(text: str) -> Iterable[tuple[int, Figure]]:
    for match in _PRICE.finditer(text):
        ends_in_a_word = re.match(r"[\s-]*[a-z]", text[match.end() :], re.I)
        if not (match["tokens"] or match["mtok"]) and ends_in_a_word:
            continue  # "per 1M requests", "per 1M cached input tokens": not a token price
        if _OTHER_PRICE.search(text[max(0, match.start() - 40) : match.end()]):
            continue
        if match["cents"]:
            raw, scale = match["cents"], Decimal("0.01")
        else:
            raw, scale = match["dollars"] or match["usd"], Decimal(1)
        side = (match["side_mid"] or match["side_after"] or "").lower()
        pair = _FIRST_OF_PAIR.search(text, max(0, match.start() - 30), match.start())
        if pair and match["both"]:  # "$0.15/$0.60 per 1M input/output tokens"
            sides = (_SIDES[side], _SIDES[match["both"].lower()])
        elif pair or match["both"]:  # which price is which is not said: either may hold
            sides = ("", "")
        else:
            sides = ("", _SIDES[side] if side else _side_before(text, match.start()))
        if pair:
            whole = text[pair.start() : match.end()]
            yield pair.start(), _price(pair["dollars"], Decimal(1), sides[0], whole)
        yield match.start(), _price(raw, scale, sides[1], match[0].strip())


def _price(raw: str, scale: Decimal, side: str, text: str) -> Figure:
    amount, step = _number(raw) * scale, _step(raw) * scale
    return Figure(kind="price", readings=(amount,), text=text, side=side, step=step)


def _contexts(text: str) -> Iterable[tuple[int, Figure]]:
    seen: set[int] = set()
    for pattern in (_CONTEXT_AFTER, _CONTEXT_BEFORE):
        for match in pattern.finditer(text):
            if match.start("num") in seen:
                continue
            seen.add(match.start("num"))
            number, suffix = _number(match["num"]), (match["suffix"] or "").lower()
            readings = {number * _SCALE.get(suffix, 1)}
            if suffix in _BINARY:
                readings.add(number * _BINARY[suffix])
            if min(readings) < MIN_CONTEXT:
                continue
            figure = Figure(kind="context", readings=tuple(sorted(readings)), text=match[0].strip())
            yield match.start(), figure


def figures_find(text: str) -> list[Figure]:
    """The prices per 1M tokens and context sizes `text` states, in the order they appear."""
    found = sorted([*_prices(text), *_contexts(text)], key=lambda pair: pair[0])
    return [figure for _, figure in found]


def _agrees(figure: Figure, fact: Decimal) -> bool:
    if figure.kind == "context":
        return any(abs(reading - fact) <= CONTEXT_TOLERANCE * fact for reading in figure.readings)
    (claimed,) = figure.readings
    off = abs(claimed - fact)
    rounded = off <= figure.step / 2 and off < ROUNDING_TOLERANCE * fact
    return off <= PRICE_TOLERANCE * fact or rounded


def _values(row: FactRow) -> list[Decimal]:
    """The value shown and every reading that disagrees: a disputed fact supports them all."""
    return [Decimal(row.value)] + [Decimal(reading.value) for reading in row.conflicts]


Outcome = Literal["supported", "contradicted", "unknown"]


def figure_compare(figure: Figure, facts: Sequence[FactRow]) -> tuple[Outcome, list[FactRow]]:
    """Supported, contradicted or unknown, with the facts of the figure's keys that were known."""
    rows = {row.key: row for row in facts}
    known = [rows[key] for key in figure.keys if key in rows]
    if any(_agrees(figure, value) for row in known for value in _values(row)):
        return "supported", known
    if known and len(known) == len(figure.keys):
        return "contradicted", known
    return "unknown", known


@dataclass
class FiguresCheck:
    supported: list[Figure]
    contradicted: list[tuple[Figure, list[FactRow]]]

    @property
    def flags(self) -> list[str]:
        """One line per contradicted figure, as a review's flags say it."""
        return [
            f'states "{figure.text}" where the facts say '
            + " and ".join(f"{row.label.lower()} {row.text}" for row in rows)
            for figure, rows in self.contradicted
        ]


def figures_check(text: str, facts: Sequence[FactRow]) -> FiguresCheck:
    """Every figure `text` states, held against `facts`: the supported and the contradicted."""
    check = FiguresCheck(supported=[], contradicted=[])
    for figure in figures_find(text):
        outcome, rows = figure_compare(figure, facts)
        if outcome == "supported":
            check.supported.append(figure)
        elif outcome == "contradicted":
            check.contradicted.append((figure, rows))
    return check
