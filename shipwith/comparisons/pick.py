"""'Which one should you ship with?': a pick by a stated rule from panel and community figures."""

from dataclasses import dataclass, field

from shipwith.catalog.models import Deployment, PriceKind, Tool
from shipwith.panel.models import Persona, Review, Verdict
from shipwith.panel.selectors import PanelSummary
from shipwith.votes.selectors import CommunityFigure

RULE = (
    "We pick the tool that more of the four panel reviewers would ship. If the panels tie, the "
    "community breaks the tie, but only when both tools have enough reader votes to show a "
    "figure. If they still tie, we call it a toss-up. We never pick from an incomplete panel, nor "
    "from a draft (a panel with a take by the embedded model)."
)


@dataclass
class Side:
    tool: Tool
    panel: PanelSummary
    community: CommunityFigure


@dataclass
class Pick:
    winner: Tool | None
    other: Tool | None
    step: str  # "panel", "community", "toss-up", "incomplete" or "draft"
    reason: str
    other_wins: list[str] = field(default_factory=list)


@dataclass
class SplitRow:
    """One persona's verdicts on both tools, and whether they agree."""

    persona: Persona
    a: Review | None
    b: Review | None

    @property
    def reviews(self) -> list[Review | None]:
        return [self.a, self.b]

    @property
    def state(self) -> str:
        if self.a is None or self.b is None:
            return "missing"
        return "agree" if self.a.verdict == self.b.verdict else "split"


def split_rows(personas: list[Persona], a: PanelSummary, b: PanelSummary) -> list[SplitRow]:
    """Pair each persona's current review of A with its review of B."""
    by_a = {review.persona_id: review for review in a.reviews}
    by_b = {review.persona_id: review for review in b.reviews}
    return [SplitRow(p, by_a.get(p.pk), by_b.get(p.pk)) for p in personas]


def _ships(side: Side) -> str:
    return f"{side.panel.ships} of {side.panel.completed}"


def _other_wins(winner: Side, other: Side, rows: list[SplitRow]) -> list[str]:
    """Say when the tool we did not pick is the better choice."""
    cases = []
    for row in rows:
        by_tool = {review.tool_id: review for review in (row.a, row.b) if review}
        theirs, ours = by_tool.get(other.tool.pk), by_tool.get(winner.tool.pk)
        if theirs and ours and theirs.verdict == Verdict.SHIP and ours.verdict == Verdict.SKIP:
            cases.append(
                f"if you weigh the {row.persona.name}'s lens most: the {row.persona.name} ships "
                f"{other.tool.name} and skips {winner.tool.name}."
            )
    self_host = (Deployment.SELF_HOSTED, Deployment.BOTH)
    if other.tool.deployment in self_host and winner.tool.deployment == Deployment.API:
        cases.append(
            f"if it must run on your own hardware: {other.tool.name} can be self-hosted, "
            f"{winner.tool.name} is a hosted service."
        )
    if other.tool.price_kind == PriceKind.FREE and winner.tool.price_kind not in ("", "free"):
        cases.append(
            f"if budget decides: {other.tool.name} is free to start, "
            f"{winner.tool.name} starts at {winner.tool.entry_price}."
        )
    ours_c, theirs_c = winner.community.percent, other.community.percent
    if ours_c is not None and theirs_c is not None and theirs_c > ours_c:
        cases.append(
            f"if you side with readers: {theirs_c}% of them ship {other.tool.name} against "
            f"{ours_c}% for {winner.tool.name}."
        )
    if not cases:
        cases.append(
            f"if its own strengths match your project: read the {other.tool.name} takes below, "
            "the panel found no lens on which it beats the pick outright."
        )
    return cases


def _no_pick(a: Side, b: Side) -> Pick:
    """Why there is no pick: a panel is a draft (said first: the fix differs) or incomplete."""
    drafts = [s.tool.name for s in (a, b) if s.panel.is_draft]
    if drafts:
        reason = (
            f"No pick yet: the panel on {' and '.join(drafts)} is a draft, written in part by the "
            "embedded model, and we only pick between verdicts of a capable model."
        )
        return Pick(None, None, "draft", reason)
    waiting = [s.tool.name for s in (a, b) if not s.panel.is_complete]
    reason = (
        f"No pick yet: the panel on {' and '.join(waiting)} is incomplete, and we only pick "
        "between complete panels."
    )
    return Pick(None, None, "incomplete", reason)


def pick(a: Side, b: Side, rows: list[SplitRow]) -> Pick:
    """Apply RULE to two tools and explain the outcome."""
    if not (a.panel.is_verdict and b.panel.is_verdict):
        return _no_pick(a, b)
    share_a, share_b = a.panel.ship_share, b.panel.ship_share
    if share_a != share_b:
        winner, other = (a, b) if share_a > share_b else (b, a)
        reason = (
            f"The panel ships {winner.tool.name} with {_ships(winner)} reviewers against "
            f"{_ships(other)} for {other.tool.name}."
        )
        return Pick(winner.tool, other.tool, "panel", reason, _other_wins(winner, other, rows))
    ca, cb = a.community.percent, b.community.percent
    if ca is not None and cb is not None and ca != cb:
        winner, other = (a, b) if ca > cb else (b, a)
        reason = (
            f"The panel ties at {_ships(a)} each, so readers decide: "
            f"{winner.community.percent}% ship {winner.tool.name} against "
            f"{other.community.percent}% for {other.tool.name}."
        )
        return Pick(winner.tool, other.tool, "community", reason, _other_wins(winner, other, rows))
    reason = f"A toss-up: the panel ties at {_ships(a)} each and the community " + (
        "ties too." if ca is not None and cb is not None else "has too few votes to break it."
    )
    return Pick(None, None, "toss-up", reason)
