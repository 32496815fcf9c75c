"""The community figures the pick rule and the comparison bar need, read from the votes app."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Community:
    """A tool's counted reader votes; `percent` is None below the votes app's minimum."""

    ships: int = 0
    votes: int = 0
    percent: int | None = None


def community_figures(tool_ids: list[int]) -> dict[int, Community]:
    """Return each tool's community figure; tools without votes get an empty one."""
    figures = {tool_id: Community() for tool_id in tool_ids}
    try:
        # The votes app owns the minimum and the tallies; we only read its summary.
        from shipwith.votes.selectors import community_summaries
    except ImportError:
        return figures
    for tool_id, summary in community_summaries(list(tool_ids)).items():
        ships = int(getattr(summary, "ships", 0) or 0)
        votes = int(getattr(summary, "votes", getattr(summary, "total", 0)) or 0)
        percent = getattr(summary, "ship_percent", getattr(summary, "percent", None))
        figures[tool_id] = Community(ships=ships, votes=votes, percent=percent)
    return figures
