"""The community figures the pick rule and the comparison bar need, read from the votes app."""

from dataclasses import dataclass

from shipwith.catalog.models import Tool


@dataclass(frozen=True)
class Community:
    """A tool's counted reader votes; `percent` is None below the votes app's minimum."""

    ships: int = 0
    votes: int = 0
    percent: int | None = None


def community_figures(tools: list[Tool]) -> dict[int, Community]:
    """Return each tool's community figure in one query; tools without votes get an empty one."""
    figures = {tool.pk: Community() for tool in tools}
    try:
        # The votes app owns the tallies and the minimum; it also attaches each figure to its
        # tool so the `community_figure` tag costs no further query.
        from shipwith.votes.selectors import community_figures as votes_figures
    except ImportError:
        return figures
    for tool_id, figure in votes_figures(tools).items():
        figures[tool_id] = Community(ships=figure.ships, votes=figure.total, percent=figure.percent)
    return figures
