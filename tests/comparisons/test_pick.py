"""The 'which one should you ship with?' rule: panel first, community on a tie, else a toss-up."""

from shipwith.catalog.models import Tool
from shipwith.comparisons.pick import Side, pick, split_rows
from shipwith.panel.models import Persona, Review
from shipwith.panel.selectors import PanelSummary
from shipwith.votes.selectors import CommunityFigure

PERSONAS = [Persona(pk=n, key=k, name=k.title()) for n, k in enumerate(["builder", "skeptic"], 1)]
PERSONAS += [
    Persona(pk=3, key="futurist", name="Futurist"),
    Persona(pk=4, key="operator", name="Operator"),
]


def tool(pk, name, **fields):
    return Tool(pk=pk, name=name, slug=name.lower(), **fields)


def panel(tool_id, verdicts, seats=4):
    reviews = [
        Review(tool_id=tool_id, persona=PERSONAS[i], persona_id=PERSONAS[i].pk, verdict=v)
        for i, v in enumerate(verdicts)
    ]
    return PanelSummary(reviews=reviews, seats=seats)


def community(percent: int | None) -> CommunityFigure:
    """Readers' figure with this share of 100 votes (None: too few votes to show one)."""
    return CommunityFigure() if percent is None else CommunityFigure(percent, 100 - percent)


def decide(a_verdicts, b_verdicts, ca=None, cb=None, a_fields=None, b_fields=None):
    a = Side(tool(1, "Alpha", **(a_fields or {})), panel(1, a_verdicts), community(ca))
    b = Side(tool(2, "Beta", **(b_fields or {})), panel(2, b_verdicts), community(cb))
    return pick(a, b, split_rows(PERSONAS, a.panel, b.panel))


def test_higher_panel_share_wins_and_says_why():
    result = decide(["ship", "ship", "ship", "skip"], ["ship", "skip", "skip", "skip"])
    assert result.winner.name == "Alpha" and result.step == "panel"
    assert "3 of 4 reviewers against 1 of 4 for Beta" in result.reason


def test_other_tool_wins_on_the_lens_where_it_ships():
    result = decide(["ship", "ship", "ship", "skip"], ["skip", "skip", "skip", "ship"])
    assert any("Operator ships Beta and skips Alpha" in case for case in result.other_wins)


def test_other_tool_wins_on_self_hosting_and_price():
    result = decide(
        ["ship"] * 4,
        ["skip"] * 4,
        a_fields={
            "deployment": "api",
            "price_kind": "amount",
            "price_amount": 20,
            "price_period": "month",
        },
        b_fields={"deployment": "self_hosted", "price_kind": "free"},
    )
    cases = " ".join(result.other_wins)
    assert "Beta can be self-hosted" in cases and "Beta is free to start" in cases
    assert "$20/mo" in cases


def test_community_breaks_a_panel_tie():
    result = decide(["ship", "skip"] * 2, ["skip", "ship"] * 2, ca=40, cb=70)
    assert result.winner.name == "Beta" and result.step == "community"
    assert "70% ship Beta against 40%" in result.reason


def test_tie_without_community_figures_is_a_toss_up():
    result = decide(["ship"] * 4, ["ship"] * 4, ca=None, cb=80)
    assert result.winner is None and result.step == "toss-up"
    assert "too few votes" in result.reason


def test_incomplete_panel_gets_no_pick():
    result = decide(["ship"] * 4, ["skip"] * 3)
    assert result.winner is None and result.step == "incomplete"
    assert "Beta is incomplete" in result.reason


def test_a_draft_panel_gets_no_pick_however_it_votes():
    a = Side(tool(1, "Alpha"), panel(1, ["ship"] * 4), community(90))
    b = Side(tool(2, "Beta"), panel(2, ["skip"] * 4), community(10))
    a.panel.reviews[2].provider = "local"  # one take by the embedded model
    result = pick(a, b, split_rows(PERSONAS, a.panel, b.panel))
    assert result.winner is None and result.step == "draft"
    assert "Alpha is a draft" in result.reason and "Beta" not in result.reason
    assert result.other_wins == []


def test_split_rows_mark_agreement():
    a, b = panel(1, ["ship", "skip", "ship", "ship"]), panel(2, ["ship", "ship", "skip"])
    states = [row.state for row in split_rows(PERSONAS, a, b)]
    assert states == ["agree", "split", "split", "missing"]
