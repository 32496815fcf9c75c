"""The facts a tool's pages show with a source and a date: every key, in one registry.

A key says what pages call it (`label`), the type of its value, its unit, which kinds of tool
have it (`applies_to`), and how a value is parsed from what a source or a catalog file gives,
stored (canonical text: equal values store equal text), read back and shown. A value a key
cannot hold raises FactError naming the key and the value, before anything is written.

`applies_to` is what a page lists for a tool, known or not ("Context window: not known yet");
a fact of another key is still kept and shown. A tool's kind comes from its category
(`tool_kind`). A counter (stars, downloads) moves on nearly every read: its latest reading is
what matters, so its moves write no history row and leave lists alone.
"""

import datetime as dt
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from shipwith.core.text import plain_text

Value = Decimal | int | bool | str | dt.date | tuple[str, ...]
STALE_AFTER = dt.timedelta(days=30)


class FactError(ValueError):
    """A key that is not in the registry, or a value its key cannot hold."""


class Kind(StrEnum):
    HOSTED_MODEL = "hosted_model"
    OPEN_WEIGHT_MODEL = "open_weight_model"
    SOFTWARE = "software"


MODELS = frozenset({Kind.HOSTED_MODEL, Kind.OPEN_WEIGHT_MODEL})
EVERY_KIND = frozenset(Kind)
CATEGORY_KINDS = {"hosted-models": Kind.HOSTED_MODEL, "open-weight-models": Kind.OPEN_WEIGHT_MODEL}


def tool_kind(category_slug: str) -> Kind:
    """The kind of the tools in a category; another "…-models" category holds hosted models."""
    if category_slug in CATEGORY_KINDS:
        return CATEGORY_KINDS[category_slug]
    return Kind.HOSTED_MODEL if category_slug.endswith("-models") else Kind.SOFTWARE


class FactType(ABC):
    """How values of one type are parsed, stored as text, read back and shown."""

    name = ""

    @abstractmethod
    def parse(self, raw: object) -> Value:
        """The value `raw` stands for; ValueError saying why it is refused."""

    def dump(self, value: Value) -> str:
        return str(value)

    def load(self, text: str) -> Value:
        return self.parse(text)

    def display(self, value: Value) -> str:
        return str(value)


def _decimal(raw: object) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise ValueError("is not a number")
    try:
        number = Decimal(str(raw).strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise ValueError("is not a number") from None
    if not number.is_finite():
        raise ValueError("is not a number")
    return number


def _tidy(number: Decimal) -> Decimal:
    """0.1500 → 0.15, 100.0000 → 100 (never 1E+2)."""
    integral = number.to_integral_value()
    return integral if number == integral else number.normalize()


@dataclass(frozen=True)
class DecimalType(FactType):
    """A decimal with at most `places` places, as a DecimalField(max_digits, places) holds it."""

    max_digits: int = 12
    places: int = 4
    minimum: Decimal = Decimal(0)
    name = "decimal"

    @property
    def maximum(self) -> Decimal:
        return Decimal(10) ** (self.max_digits - self.places) - Decimal(1).scaleb(-self.places)

    def parse(self, raw: object) -> Decimal:
        number = _decimal(raw)
        if number < self.minimum:
            raise ValueError("is negative" if self.minimum == 0 else f"is less than {self.minimum}")
        if number > self.maximum:  # compared before rounding: 1e30 cannot be rounded
            raise ValueError(f"is more than the catalog holds (at most {self.maximum})")
        return _tidy(number.quantize(Decimal(1).scaleb(-self.places)))

    def dump(self, value: Decimal) -> str:
        return f"{_tidy(value):f}"

    def display(self, value: Decimal) -> str:
        shown = max(2, -_tidy(value).as_tuple().exponent)
        return f"{value:,.{shown}f}".removesuffix(".00")


class MoneyType(DecimalType):
    """US dollars: "$0.15", "$2.50", "$15"."""

    def display(self, value: Decimal) -> str:
        return "$" + super().display(value)


class BillionsType(DecimalType):
    """A count in billions: 70, "70B", "405M" (0.405) or "1.8T" (1800); shown as "70B"."""

    SCALE = {"": 1, "b": 1, "m": Decimal("0.001"), "t": 1000}

    def parse(self, raw: object) -> Decimal:
        if isinstance(raw, str) and (match := re.fullmatch(r"\s*([\d.,_]+)\s*([bmtBMT]?)\s*", raw)):
            raw = _decimal(match[1]) * self.SCALE[match[2].lower()]
        return super().parse(raw)

    def display(self, value: Decimal) -> str:
        if value < 1:
            return f"{_tidy(value * 1000):f}M"
        if value >= 1000:
            return f"{_tidy(value / 1000):f}T"
        return f"{_tidy(value):f}B"


@dataclass(frozen=True)
class IntType(FactType):
    minimum: int = 0
    maximum: int = 2**63 - 1  # the largest integer SQLite and PostgreSQL's bigint hold
    name = "int"

    def parse(self, raw: object) -> int:
        number = _decimal(raw)
        if number != number.to_integral_value():
            raise ValueError("is not a whole number")
        if not self.minimum <= number <= self.maximum:
            raise ValueError(f"is not between {self.minimum:,} and {self.maximum:,}")
        return int(number)

    def display(self, value: int) -> str:
        return f"{value:,}"


class BoolType(FactType):
    name = "bool"
    WORDS = {"true": True, "yes": True, "false": False, "no": False}

    def parse(self, raw: object) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in self.WORDS:
            return self.WORDS[raw.strip().lower()]
        raise ValueError("is not true or false")

    def dump(self, value: bool) -> str:
        return "true" if value else "false"

    def display(self, value: bool) -> str:
        return "Yes" if value else "No"


def _line(raw: object, max_length: int) -> str:
    if not isinstance(raw, str):
        raise ValueError("is not text (in a catalog file, quote it)")
    text = plain_text(raw)
    if not text:
        raise ValueError("is empty")
    if "\n" in text or "\r" in text:
        raise ValueError("is more than one line")
    if len(text) > max_length:
        raise ValueError(f"is longer than {max_length} characters")
    return text


@dataclass(frozen=True)
class TextType(FactType):
    max_length: int = 120
    name = "text"

    def parse(self, raw: object) -> str:
        return _line(raw, self.max_length)


@dataclass(frozen=True)
class DateType(FactType):
    earliest: dt.date = dt.date(1950, 1, 1)
    latest: dt.date = dt.date(2100, 12, 31)
    name = "date"

    def parse(self, raw: object) -> dt.date:
        if isinstance(raw, dt.datetime):
            raw = raw.date()
        if isinstance(raw, str):
            try:
                raw = dt.date.fromisoformat(raw.strip())
            except ValueError:
                raise ValueError("is not a date (YYYY-MM-DD)") from None
        if not isinstance(raw, dt.date):
            raise ValueError("is not a date (YYYY-MM-DD)")
        if not self.earliest <= raw <= self.latest:
            raise ValueError(f"is not between {self.earliest} and {self.latest}")
        return raw

    def dump(self, value: dt.date) -> str:
        return value.isoformat()

    def display(self, value: dt.date) -> str:
        return f"{value.day} {value:%b %Y}"


@dataclass(frozen=True)
class TextListType(FactType):
    """A set of short words ("text, image"): lower-cased, without repeats, in sorted order."""

    max_items: int = 20
    max_length: int = 40
    name = "list"

    def parse(self, raw: object) -> tuple[str, ...]:
        if isinstance(raw, str):
            raw = raw.split(",")
        if not isinstance(raw, list | tuple) or not raw:
            raise ValueError("is not a list of words")
        if len(raw) > self.max_items:
            raise ValueError(f"has more than {self.max_items} items")
        items = {_line(item, self.max_length).lower() for item in raw}
        if any("," in item for item in items):
            raise ValueError("has an item with a comma")
        return tuple(sorted(items))

    def dump(self, value: tuple[str, ...]) -> str:
        return ", ".join(value)

    def display(self, value: tuple[str, ...]) -> str:
        return ", ".join(value)


@dataclass(frozen=True)
class FactKey:
    key: str
    label: str
    type: FactType
    unit: str
    applies_to: frozenset[Kind]
    counter: bool = False
    suffix: str = ""  # after the value on pages: "$0.15 per 1M tokens", "128,000 tokens"

    def parse(self, raw: object) -> Value:
        """The typed value of `raw`, or FactError naming this key and the value."""
        try:
            return self.type.parse(raw)
        except ValueError as exc:
            raise FactError(f"fact '{self.key}': value {raw!r} {exc}") from None

    def dump(self, value: Value) -> str:
        return self.type.dump(value)

    def load(self, text: str) -> Value:
        return self.parse(text)

    def display(self, value: Value) -> str:
        return self.type.display(value) + self.suffix

    def applies(self, category_slug: str) -> bool:
        return tool_kind(category_slug) in self.applies_to


PER_MTOK = "USD per 1M tokens"
_PRICE = MoneyType()
_TOKENS = IntType(minimum=1, maximum=10**10)
_MODALITIES = TextListType(max_items=10, max_length=20)
_COUNT = IntType()

FACTS: dict[str, FactKey] = {
    fact.key: fact
    for fact in [
        FactKey(
            "input_price_per_mtok", "Input price", _PRICE, PER_MTOK, MODELS,
            suffix=" per 1M tokens",
        ),
        FactKey(
            "output_price_per_mtok", "Output price", _PRICE, PER_MTOK, MODELS,
            suffix=" per 1M tokens",
        ),
        FactKey("context_window", "Context window", _TOKENS, "tokens", MODELS, suffix=" tokens"),
        FactKey(
            "max_output_tokens", "Longest output", _TOKENS, "tokens", MODELS, suffix=" tokens"
        ),
        FactKey("input_modalities", "Input", _MODALITIES, "", MODELS),
        FactKey("output_modalities", "Output", _MODALITIES, "", MODELS),
        FactKey(
            "parameters", "Parameters", BillionsType(max_digits=10, places=3),
            "billion parameters", frozenset({Kind.OPEN_WEIGHT_MODEL}),
        ),
        FactKey("open_weights", "Open weights", BoolType(), "", MODELS),
        FactKey("licence", "Licence", TextType(max_length=120), "", EVERY_KIND),
        FactKey("release_date", "Released", DateType(), "", EVERY_KIND),
        FactKey(
            "latest_release", "Latest release", TextType(max_length=120), "",
            frozenset({Kind.SOFTWARE}),
        ),
        FactKey(
            "latest_release_date", "Latest release on", DateType(), "",
            frozenset({Kind.SOFTWARE}),
        ),
        FactKey(
            "github_stars", "GitHub stars", _COUNT, "stars", frozenset({Kind.SOFTWARE}),
            counter=True,
        ),
        FactKey(
            "hf_downloads", "Hugging Face downloads", _COUNT, "downloads",
            frozenset({Kind.OPEN_WEIGHT_MODEL}), counter=True,
        ),
    ]
}  # fmt: skip
ORDER = {key: position for position, key in enumerate(FACTS)}


def fact_key(key: str) -> FactKey:
    """The registry's entry for `key`, or FactError listing the keys there are."""
    try:
        return FACTS[key]
    except (KeyError, TypeError):
        raise FactError(f"unknown fact key {key!r} (known: {', '.join(FACTS)})") from None


def fact_keys_for(category_slug: str) -> list[FactKey]:
    """The keys a page lists for a tool of this category, in the registry's order."""
    return [fact for fact in FACTS.values() if fact.applies(category_slug)]
