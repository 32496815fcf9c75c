"""Reads of comparisons: the pairs both of whose panels are verdicts, and the reads now due."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Q
from django.db.models.functions import Greatest

from shipwith.catalog.models import Tool
from shipwith.comparisons.models import Comparison
from shipwith.comparisons.moderator import read_due
from shipwith.comparisons.pick import Pick, Side, pick, split_rows
from shipwith.panel.models import Persona
from shipwith.panel.selectors import panel_summaries, verdict_since
from shipwith.votes.selectors import community_figures


def sides(tools: list[Tool]) -> dict[int, Side]:
    """Each tool with its panel and community figure, in a constant number of queries."""
    panels = panel_summaries([tool.pk for tool in tools])
    community = community_figures(tools)
    return {tool.pk: Side(tool, panels[tool.pk], community[tool.pk]) for tool in tools}


@dataclass
class Decided:
    """A published comparison whose two panels are verdicts, and when that became true."""

    comparison: Comparison
    decided_at: datetime
    pick: Pick


def comparisons_decided(limit: int = 50) -> list[Decided]:
    """Published comparisons whose two panels are verdicts, newest first, with their pick.

    Dated by the later of the two panels' newest current takes (when the pair last became
    two verdicts), or when published if that came later. A constant number of queries.
    """
    comparisons = list(
        Comparison.objects.published()
        .annotate(
            a_since=verdict_since(OuterRef("tool_a")), b_since=verdict_since(OuterRef("tool_b"))
        )
        .filter(a_since__isnull=False, b_since__isnull=False)
        .annotate(decided_at=Greatest("published_at", "a_since", "b_since"))
        .select_related("tool_a", "tool_b")
        .order_by("-decided_at", "-pk")[:limit]
    )
    tools = {tool.pk: tool for c in comparisons for tool in (c.tool_a, c.tool_b)}
    by_id = sides(list(tools.values()))
    personas = list(Persona.objects.filter(active=True))
    decided = []
    for comparison in comparisons:
        a, b = by_id[comparison.tool_a_id], by_id[comparison.tool_b_id]
        verdict = pick(a, b, split_rows(personas, a.panel, b.panel))
        decided.append(Decided(comparison, comparison.decided_at, verdict))
    return decided


def moderator_reads_due(*, tool_ids: list[int] | None = None) -> list[int]:
    """The published comparisons (of these tools, or all) whose moderator's read is due."""
    comparisons = Comparison.objects.published()
    if tool_ids is not None:
        comparisons = comparisons.filter(Q(tool_a_id__in=tool_ids) | Q(tool_b_id__in=tool_ids))
    comparisons = list(comparisons)
    ids = {c.tool_a_id for c in comparisons} | {c.tool_b_id for c in comparisons}
    panels = panel_summaries(list(ids))
    return [c.pk for c in comparisons if read_due(c, panels[c.tool_a_id], panels[c.tool_b_id])]
