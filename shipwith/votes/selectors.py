"""Reads: community figures (for one tool or a whole list), a voter's votes, the leaderboard."""

import math
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet

from shipwith.catalog.models import Category, Tool
from shipwith.panel.selectors import panel_summary
from shipwith.votes.models import PairTally, PairVote, Rating, RatingFit, ToolTally, Vote

Z95 = 1.959963984540054


def minimum_votes() -> int:
    return settings.SHIPWITH_VOTES_MIN


def disagreement_gap() -> float:
    return settings.SHIPWITH_VOTES_DISAGREEMENT


def wilson_interval(successes: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Return the Wilson score interval for a proportion (0, 1 when there is no data)."""
    if total <= 0:
        return 0.0, 1.0
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class CommunityFigure:
    """A tool's community figure: counted ship and skip votes."""

    ships: int = 0
    skips: int = 0
    panel_share: float | None = None

    @property
    def total(self) -> int:
        return self.ships + self.skips

    @property
    def shown(self) -> bool:
        """A share is shown only from the minimum number of votes on."""
        return self.total > 0 and self.total >= minimum_votes()

    @property
    def share(self) -> float | None:
        return self.ships / self.total if self.shown else None

    @property
    def percent(self) -> int | None:
        return None if self.share is None else round(self.share * 100)

    @property
    def interval(self) -> tuple[int, int] | None:
        """The Wilson 95% interval, in whole percent."""
        if not self.shown:
            return None
        low, high = wilson_interval(self.ships, self.total)
        return math.floor(low * 100), math.ceil(high * 100)

    @property
    def panel_percent(self) -> int | None:
        return None if self.panel_share is None else round(self.panel_share * 100)

    @property
    def needed(self) -> int:
        return max(0, minimum_votes() - self.total)

    @property
    def disagrees(self) -> bool:
        """Panel and community disagree strongly: far apart, and the panel outside the interval.

        The gap (SHIPWITH_VOTES_DISAGREEMENT, 0.4 by default) keeps small, noisy differences from
        raising the flag; the interval keeps a few votes from raising it.
        """
        if self.panel_share is None or self.share is None:
            return False
        low, high = wilson_interval(self.ships, self.total)
        outside = not (low <= self.panel_share <= high)
        return outside and abs(self.panel_share - self.share) >= disagreement_gap()


def community_summaries(tool_ids: list[int]) -> dict[int, CommunityFigure]:
    """Return the figure of each tool id in one query, whatever the number of tools."""
    rows = ToolTally.objects.filter(tool_id__in=tool_ids).values_list("tool_id", "ships", "skips")
    figures = {tool_id: CommunityFigure() for tool_id in tool_ids}
    for tool_id, ships, skips in rows:
        figures[tool_id] = CommunityFigure(ships, skips)
    return figures


def community_figures(tools) -> dict[int, CommunityFigure]:
    """Return the figure of each tool in one query, and attach it to the tool objects."""
    tools = list(tools)
    figures = community_summaries([tool.pk for tool in tools])
    for tool in tools:
        tool._community_figure = figures[tool.pk]
    return figures


def community_figure(tool: Tool) -> CommunityFigure:
    """Return a tool's figure: attached by `community_figures`, select_related, or one query."""
    if (figure := getattr(tool, "_community_figure", None)) is not None:
        return figure
    try:
        tally = tool.votes_tally  # free when the page used select_related("votes_tally")
    except ToolTally.DoesNotExist:
        tally = None
    figure = CommunityFigure(tally.ships, tally.skips) if tally else CommunityFigure()
    tool._community_figure = figure
    return figure


def community_figure_with_panel(tool: Tool) -> CommunityFigure:
    """The figure with the panel's share beside it, for the disagreement flag."""
    figure = community_figure(tool)
    if figure.shown:  # below the minimum there is no share to disagree with
        figure.panel_share = panel_summary(tool.pk).ship_share
    return figure


def voter_vote(voter_id: int | None, tool_id: int) -> str | None:
    if voter_id is None:
        return None
    return (
        Vote.objects.filter(voter_id=voter_id, tool_id=tool_id)
        .values_list("value", flat=True)
        .first()
    )


def voter_pair_choice(voter_id: int | None, tool_a_id: int, tool_b_id: int) -> str | None:
    if voter_id is None:
        return None
    return (
        PairVote.objects.filter(voter_id=voter_id, tool_a_id=tool_a_id, tool_b_id=tool_b_id)
        .values_list("choice", flat=True)
        .first()
    )


def pair_tally(tool_a_id: int, tool_b_id: int) -> PairTally:
    tally = PairTally.objects.filter(tool_a_id=tool_a_id, tool_b_id=tool_b_id).first()
    return tally or PairTally(tool_a_id=tool_a_id, tool_b_id=tool_b_id)


def leaderboard(category: Category | None = None) -> tuple[RatingFit | None, QuerySet]:
    """The latest fit and its ratings, best first (within a category when given)."""
    fit = RatingFit.objects.first()
    if fit is None:
        return None, Rating.objects.none()
    ratings = fit.ratings.select_related("tool", "tool__category")
    if category is not None:
        return fit, ratings.filter(tool__category=category).order_by("category_rank", "-score")
    return fit, ratings.order_by("rank", "-score")


def categories_rated() -> list[Category]:
    fit = RatingFit.objects.first()
    if fit is None:
        return []
    return list(Category.objects.filter(Q(tools__ratings__fit=fit)).distinct())
