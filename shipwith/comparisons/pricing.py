"""The pricing read: what stated workloads cost a month with each of two tools, and which is
cheaper, by how much.

A workload is input and output tokens a month. Its cost with a tool billed per token is
input tokens / 1M × input price + output tokens / 1M × output price (USD, exact decimals;
pages round to cents). A tool without a price that you run yourself costs "your hardware",
never $0; a tool whose price no source gave is "no price read". Only two costs in dollars
are compared. `pricing_read` is pure: the page, the API and `shipwith compare --json` call it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from shipwith.catalog.facts import MODELS, Kind, tool_kind
from shipwith.catalog.models import Deployment, Tool
from shipwith.catalog.selectors import FactRow

INPUT_PRICE = "input_price_per_mtok"
OUTPUT_PRICE = "output_price_per_mtok"
MILLION = Decimal(1_000_000)
CENT = Decimal("0.01")
MAX_TOKENS = 10**12  # a trillion tokens a month: more than any reader's bill we can price


@dataclass(frozen=True)
class Workload:
    name: str
    input_tokens: int
    output_tokens: int
    description: str


WORKLOADS = (
    Workload(
        "Chat app",
        20_000_000,
        5_000_000,
        "A support chat: 10,000 conversations a month, 2,000 tokens in and 500 out each.",
    ),
    Workload(
        "RAG pipeline",
        100_000_000,
        2_000_000,
        "Questions over your documents: 20,000 a month, 5,000 retrieved tokens in and 100 "
        "out each.",
    ),
    Workload(
        "Agent",
        300_000_000,
        30_000_000,
        "A coding agent: 1,000 tasks a month, 30 steps each, 10,000 tokens in and 1,000 out "
        "per step.",
    ),
)
READER_WORKLOAD = "Your volumes"


class Basis(StrEnum):
    PRICED = "priced"
    SELF_HOSTED = "self_hosted"
    NO_PRICE = "no_price"


@dataclass(frozen=True)
class Prices:
    """What one tool costs per token: USD per 1M tokens, None where no source gave it."""

    slug: str
    name: str
    input_price: Decimal | None = None
    output_price: Decimal | None = None
    self_hosted: bool = False  # runs on your own machines: no price is "your hardware"
    per_token: bool = True  # the kind of tool workloads in tokens are about (a model)


def tool_prices(tool: Tool, facts: Sequence[FactRow]) -> Prices:
    """A tool's per-token prices from its facts (`tool.category` is read: select it)."""
    by_key = {row.key: row.value for row in facts}
    kind = tool_kind(tool.category.slug)
    self_hosted = (
        tool.deployment in (Deployment.SELF_HOSTED, Deployment.BOTH)
        or kind == Kind.OPEN_WEIGHT_MODEL
        or by_key.get("open_weights") is True
    )
    prices = [by_key.get(INPUT_PRICE), by_key.get(OUTPUT_PRICE)]
    return Prices(
        slug=tool.slug,
        name=tool.name,
        input_price=prices[0],
        output_price=prices[1],
        self_hosted=self_hosted,
        per_token=kind in MODELS or any(price is not None for price in prices),
    )


@dataclass(frozen=True)
class Cost:
    amount: Decimal | None  # USD a month, exact; None unless priced
    basis: Basis

    @property
    def text(self) -> str:
        if self.basis == Basis.SELF_HOSTED:
            return "your hardware"
        if self.basis == Basis.NO_PRICE:
            return "no price read"
        return usd(self.amount)


def monthly_cost(prices: Prices, workload: Workload) -> Cost:
    """What a month of `workload` costs with this tool."""
    needed = [
        (workload.input_tokens, prices.input_price),
        (workload.output_tokens, prices.output_price),
    ]
    if all(price is not None for tokens, price in needed if tokens):
        amount = sum((Decimal(tokens) * (price or 0) for tokens, price in needed), Decimal(0))
        return Cost(amount / MILLION, Basis.PRICED)
    return Cost(None, Basis.SELF_HOSTED if prices.self_hosted else Basis.NO_PRICE)


@dataclass(frozen=True)
class WorkloadRead:
    """One workload priced with both tools, and which is cheaper: by `saving` dollars a month,
    `times` as cheap (None when the cheaper one is free)."""

    workload: Workload
    a: Prices
    b: Prices
    cost_a: Cost
    cost_b: Cost
    cheaper: Prices | None
    saving: Decimal | None
    times: Decimal | None

    @property
    def costs(self) -> list[Cost]:
        return [self.cost_a, self.cost_b]

    @property
    def factor(self) -> str:
        """How many times as cheap: "16.7× cheaper", "1.25× cheaper", or "free"."""
        if self.times is None:
            return "free"
        return f"{self.times:.1f}× cheaper" if self.times >= 2 else f"{self.times:.2f}× cheaper"

    @property
    def verdict(self) -> str:
        """The cheaper tool and by how much, or why no one can say."""
        if self.cheaper is not None:
            return f"{self.cheaper.name}: {usd(self.saving)} a month less, {self.factor}"
        sides = [(self.a, self.cost_a.basis), (self.b, self.cost_b.basis)]
        bases = {basis for _, basis in sides}
        if bases == {Basis.PRICED}:
            return "The same cost"
        unpriced = [prices.name for prices, basis in sides if basis == Basis.NO_PRICE]
        if unpriced:
            return f"Not known: no price read for {' or '.join(unpriced)}"
        if bases == {Basis.SELF_HOSTED}:
            return "Both run on your hardware"
        own = next(prices.name for prices, basis in sides if basis == Basis.SELF_HOSTED)
        return f"Depends on what your hardware costs to run {own}"

    def as_json(self) -> dict:
        """The workload as `compare --json` and the API give it: dollars a month, to the cent."""
        return {
            "name": self.workload.name,
            "description": self.workload.description,
            "input_tokens": self.workload.input_tokens,
            "output_tokens": self.workload.output_tokens,
            "monthly_cost": {
                self.a.slug: cents_json(self.cost_a.amount),
                self.b.slug: cents_json(self.cost_b.amount),
            },
            "basis": {self.a.slug: str(self.cost_a.basis), self.b.slug: str(self.cost_b.basis)},
            "cheaper": self.cheaper.slug if self.cheaper else None,
            "saving": cents_json(self.saving),
            "times": float(self.times.quantize(CENT)) if self.times is not None else None,
            "verdict": self.verdict,
        }


def workload_read(a: Prices, b: Prices, workload: Workload) -> WorkloadRead:
    cost_a, cost_b = monthly_cost(a, workload), monthly_cost(b, workload)
    cheaper = saving = times = None
    if cost_a.amount is not None and cost_b.amount is not None and cost_a.amount != cost_b.amount:
        (low, cheaper), (high, _) = sorted(
            [(cost_a.amount, a), (cost_b.amount, b)], key=lambda pair: pair[0]
        )
        saving = high - low
        times = high / low if low else None
    return WorkloadRead(workload, a, b, cost_a, cost_b, cheaper, saving, times)


@dataclass(frozen=True)
class PricingRead:
    a: Prices
    b: Prices
    workloads: tuple[WorkloadRead, ...]

    @property
    def applies(self) -> bool:
        """Whether token workloads mean anything here: one of the tools is a model."""
        return self.a.per_token or self.b.per_token

    def as_json(self) -> dict:
        """The workloads as `compare --json` and the API give them (none when no tool is a
        model: tokens mean nothing to a vector database)."""
        return {"workloads": [row.as_json() for row in self.workloads] if self.applies else []}


def pricing_read(a: Prices, b: Prices, workloads: Sequence[Workload] = WORKLOADS) -> PricingRead:
    """Both tools' cost of each workload, and which is cheaper by how much."""
    return PricingRead(a, b, tuple(workload_read(a, b, w) for w in workloads))


def usd(amount: Decimal | None) -> str:
    """ "$1,050.00"; a cost under half a cent is "under $0.01", never "$0.00"."""
    if amount is None:
        return ""
    if 0 < amount < CENT / 2:
        return "under $0.01"
    return f"${amount.quantize(CENT, ROUND_HALF_UP):,.2f}"


def cents_json(amount: Decimal | None) -> float | None:
    return float(amount.quantize(CENT, ROUND_HALF_UP)) if amount is not None else None


def tokens_short(count: int) -> str:
    """20000000 → "20M", 1500 → "1.5K", 2000000000 → "2B"."""
    for size, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "K")):
        if count >= size:
            return f"{Decimal(count) / size:.2f}".rstrip("0").rstrip(".") + suffix
    return str(count)


class VolumeError(ValueError):
    """A reader's volume that cannot be priced; the message says which field and why."""


SCALE = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9}
NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*([kmb]?)(?:\s*tokens?)?", re.IGNORECASE)


def volume_parse(text: str, label: str) -> int:
    """Tokens a month as a reader writes them: "20000000", "20,000,000", "20M", "1.5k"."""
    cleaned = text.strip().replace(",", "").replace("_", "").replace(" ", "")
    if not cleaned:
        raise VolumeError(f"{label}: enter a number of tokens (0 for none).")
    match = NUMBER.fullmatch(cleaned)
    shown = text.strip()[:40]
    if match is None:
        raise VolumeError(
            f'{label}: "{shown}" is not a number of tokens; write it as 20000000 or 20M.'
        )
    count = Decimal(match[1]) * SCALE[match[2].lower()]
    if count != count.to_integral_value():
        raise VolumeError(f'{label}: "{shown}" is not a whole number of tokens.')
    if count > MAX_TOKENS:
        raise VolumeError(
            f'{label}: "{shown}" is more than we price ({MAX_TOKENS:,} tokens a month).'
        )
    return int(count)


def reader_workload(input_text: str, output_text: str) -> Workload:
    """The reader's own monthly volumes as a workload, or VolumeError naming every problem."""
    volumes, problems = [], []
    for text, label in (
        (input_text, "Input tokens a month"),
        (output_text, "Output tokens a month"),
    ):
        try:
            volumes.append(volume_parse(text, label))
        except VolumeError as exc:
            problems.append(str(exc))
    if problems:
        raise VolumeError(" ".join(problems))
    return Workload(
        READER_WORKLOAD,
        volumes[0],
        volumes[1],
        f"{volumes[0]:,} input and {volumes[1]:,} output tokens a month, as you entered them.",
    )
