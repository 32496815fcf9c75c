"""The pricing read: what the stated workloads cost a month with each tool, checked by hand."""

from decimal import Decimal

import pytest

from shipwith.comparisons.pricing import (
    WORKLOADS,
    Prices,
    VolumeError,
    pricing_read,
    reader_workload,
    usd,
)

# Input and output prices in USD per 1M tokens.
SONNET = Prices("sonnet", "Sonnet", Decimal("3"), Decimal("15"))
FLASH = Prices("flash", "Flash", Decimal("0.30"), Decimal("2.50"))
LLAMA = Prices("llama", "Llama", self_hosted=True)
UNPRICED = Prices("mystery", "Mystery")


def test_three_stated_workloads_cost_what_a_hand_computation_says():
    chat, rag, agent = pricing_read(SONNET, FLASH).workloads
    assert [w.workload for w in (chat, rag, agent)] == list(WORKLOADS)
    # Chat app, 20M in + 5M out: Sonnet 20 × 3 + 5 × 15 = 60 + 75 = 135;
    # Flash 20 × 0.30 + 5 × 2.50 = 6 + 12.50 = 18.50. Flash saves 116.50, 135 / 18.5 = 7.30×.
    assert [c.amount for c in chat.costs] == [Decimal("135"), Decimal("18.5")]
    assert chat.verdict == "Flash: $116.50 a month less, 7.3× cheaper"
    # RAG pipeline, 100M in + 2M out: Sonnet 300 + 30 = 330; Flash 30 + 5 = 35; 330 / 35 = 9.43.
    assert [c.amount for c in rag.costs] == [Decimal("330"), Decimal("35")]
    assert rag.verdict == "Flash: $295.00 a month less, 9.4× cheaper"
    # Agent, 300M in + 30M out: Sonnet 900 + 450 = 1,350; Flash 90 + 75 = 165; 1350 / 165 = 8.18.
    assert [c.text for c in agent.costs] == ["$1,350.00", "$165.00"]
    assert agent.verdict == "Flash: $1,185.00 a month less, 8.2× cheaper"


def test_the_json_gives_dollars_a_month_by_slug_and_names_the_cheaper():
    (chat, *_) = pricing_read(SONNET, FLASH).as_json()["workloads"]
    assert chat["name"] == "Chat app"
    assert (chat["input_tokens"], chat["output_tokens"]) == (20_000_000, 5_000_000)
    assert chat["monthly_cost"] == {"sonnet": 135.0, "flash": 18.5}
    assert chat["cheaper"] == "flash" and chat["saving"] == 116.5 and chat["times"] == 7.3


def test_a_self_hosted_tool_costs_your_hardware_never_zero():
    chat = pricing_read(SONNET, LLAMA).workloads[0]
    assert [c.text for c in chat.costs] == ["$135.00", "your hardware"]
    assert chat.cheaper is None
    assert chat.verdict == "Depends on what your hardware costs to run Llama"
    assert chat.as_json()["monthly_cost"] == {"sonnet": 135.0, "llama": None}


def test_a_tool_without_a_price_says_no_price_read():
    chat = pricing_read(UNPRICED, LLAMA).workloads[0]
    assert [c.text for c in chat.costs] == ["no price read", "your hardware"]
    assert chat.verdict == "Not known: no price read for Mystery"


def test_a_free_tool_is_cheaper_without_a_factor():
    free = Prices("free", "Free model", Decimal(0), Decimal(0))
    chat = pricing_read(SONNET, free).workloads[0]
    assert chat.costs[1].text == "$0.00"
    assert chat.verdict == "Free model: $135.00 a month less, free"


def test_a_readers_volumes_are_priced_to_the_cent():
    mine = reader_workload("1,234,567", "89012")
    (row,) = pricing_read(SONNET, FLASH, [mine]).workloads
    # Sonnet: 1.234567 × 3 + 0.089012 × 15 = 3.703701 + 1.33518 = 5.038881 → $5.04;
    # Flash: 1.234567 × 0.30 + 0.089012 × 2.50 = 0.3703701 + 0.22253 = 0.5929001 → $0.59.
    assert [c.text for c in row.costs] == ["$5.04", "$0.59"]
    assert row.verdict == "Flash: $4.45 a month less, 8.5× cheaper"


def test_a_tiny_cost_is_under_a_cent_not_zero():
    (row,) = pricing_read(SONNET, FLASH, [reader_workload("100", "0")]).workloads
    assert row.costs[0].text == "under $0.01"
    assert usd(Decimal("0.005")) == "$0.01"


@pytest.mark.parametrize("text", ["20M", "20,000,000", "20 000 000", "20000000", "0.02B"])
def test_readers_write_volumes_as_they_like(text):
    assert reader_workload(text, "0").input_tokens == 20_000_000


@pytest.mark.parametrize(
    "input_text, output_text, message",
    [
        ("lots", "1M", 'Input tokens a month: "lots" is not a number of tokens'),
        ("1M", "", "Output tokens a month: enter a number of tokens (0 for none)."),
        ("-5", "1", '"-5" is not a number of tokens'),
        ("1.5", "1", '"1.5" is not a whole number of tokens'),
        ("2T", "1", '"2T" is not a number'),
        ("2000B", "1", "is more than we price (1,000,000,000,000 tokens a month)"),
    ],
)
def test_a_volume_that_cannot_be_priced_is_refused_with_the_reason(
    input_text, output_text, message
):
    with pytest.raises(VolumeError) as refused:
        reader_workload(input_text, output_text)
    assert message in str(refused.value)
