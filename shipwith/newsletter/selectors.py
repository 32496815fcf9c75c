"""Reads for the digest: which week, what happened in it, and in what order."""

import datetime as dt
import math
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from shipwith.comparisons.models import Comparison
from shipwith.ingest.models import Candidate, Status
from shipwith.newsletter.links import comparison_path, tool_path
from shipwith.panel.models import LOW_CAPABILITY, Review
from shipwith.panel.selectors import PanelSummary, panel_summaries
from shipwith.votes.models import PairTally
from shipwith.votes.selectors import CommunityFigure, community_summaries

WEEK_PATTERN = re.compile(r"^(\d{4})-w(\d{1,2})$")
SUMMARY_CHARS = 280
# A comparison whose two panels disagree is the one a reader most needs: it decides something.
SPLIT_BONUS = 0.5
COMPLETE_BONUS = 0.25
FLIP_BONUS = 0.25
# Reader votes: up to this much for the most-voted item of the week, on a log scale.
VOTES_WEIGHT = 0.75


@dataclass(frozen=True)
class Week:
    """An ISO week in UTC, Monday 00:00 to the next Monday."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Week":
        match = WEEK_PATTERN.match(text.strip().lower())
        if not match:
            raise ValueError(f'expected a week like "2026-w47", got {text!r}')
        week = cls(int(match[1]), int(match[2]))
        week.start  # noqa: B018 - raises ValueError for week 54 and the like
        return week

    @classmethod
    def containing(cls, moment: dt.datetime) -> "Week":
        year, number, _ = moment.astimezone(dt.UTC).isocalendar()
        return cls(year, number)

    @classmethod
    def last_complete(cls, now: dt.datetime | None = None) -> "Week":
        return cls.containing((now or timezone.now()) - dt.timedelta(days=7))

    @property
    def slug(self) -> str:
        return f"{self.year}-w{self.number:02d}"

    @property
    def start(self) -> dt.datetime:
        day = dt.date.fromisocalendar(self.year, self.number, 1)
        return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(days=7)


def _recency(moment: dt.datetime, week: Week) -> float:
    """1.0 for the end of the week, 0.0 for its start."""
    return max(0.0, min(1.0, (moment - week.start) / (week.end - week.start)))


def _votes_scores(counts: list[int]) -> list[float]:
    """Scale vote counts to 0..VOTES_WEIGHT against the week's most-voted item (log scale)."""
    top = max(counts, default=0)
    if top == 0:
        return [0.0 for _ in counts]
    return [VOTES_WEIGHT * math.log1p(count) / math.log1p(top) for count in counts]


def _community_text(figure: CommunityFigure) -> str:
    if not figure.shown:
        return ""
    return f"community {figure.percent}% ship ({figure.total} votes)"


def _pair_votes(comparisons: list[Comparison]) -> dict[frozenset[int], int]:
    ids = {c.tool_a_id for c in comparisons} | {c.tool_b_id for c in comparisons}
    tallies = PairTally.objects.filter(tool_a_id__in=ids, tool_b_id__in=ids)
    return {frozenset((t.tool_a_id, t.tool_b_id)): t.total for t in tallies}


def _panel_text(summary: PanelSummary) -> str:
    if summary.is_draft:
        return "panel a draft by the embedded model, no verdict yet"
    if not summary.is_complete:
        return f"panel incomplete ({summary.completed} of {summary.seats} reviews)"
    return f"panel {summary.ships} of {summary.completed} ship"


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SUMMARY_CHARS:
        return text
    return text[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"


def _comparison_items(week: Week) -> list[dict]:
    comparisons = list(
        Comparison.objects.filter(published_at__gte=week.start, published_at__lt=week.end)
        .select_related("tool_a__category", "tool_b__category")
        .order_by("published_at", "pk")
    )
    tool_ids = sorted({c.tool_a_id for c in comparisons} | {c.tool_b_id for c in comparisons})
    panels = panel_summaries(tool_ids)
    community = community_summaries(tool_ids)
    pair_votes = _pair_votes(comparisons)
    votes = [
        pair_votes.get(frozenset((c.tool_a_id, c.tool_b_id)), 0)
        + community[c.tool_a_id].total
        + community[c.tool_b_id].total
        for c in comparisons
    ]
    items = []
    for comparison, votes_score in zip(comparisons, _votes_scores(votes), strict=True):
        panel_a, panel_b = panels[comparison.tool_a_id], panels[comparison.tool_b_id]
        score = _recency(comparison.published_at, week) + votes_score
        complete = panel_a.is_verdict and panel_b.is_verdict
        if complete:
            score += COMPLETE_BONUS
            if (panel_a.ship_share >= 0.5) != (panel_b.ship_share >= 0.5):
                score += SPLIT_BONUS
        categories = {comparison.tool_a.category.slug, comparison.tool_b.category.slug}
        items.append(
            {
                "kind": "comparison",
                "title": f"{comparison.tool_a.name} vs {comparison.tool_b.name}",
                "path": comparison_path(comparison),
                "categories": sorted(categories),
                "category_names": sorted(
                    {comparison.tool_a.category.name, comparison.tool_b.category.name}
                ),
                "at": comparison.published_at.isoformat(),
                "summary": _excerpt(comparison.moderator_read),
                "sides": [
                    {
                        "tool": tool.name,
                        "panel": _panel_text(panels[tool.pk]),
                        "community": _community_text(community[tool.pk]),
                    }
                    for tool in (comparison.tool_a, comparison.tool_b)
                ],
                "score": round(score, 4),
                "complete": complete,
            }
        )
    return items


def _flip_items(week: Week) -> list[dict]:
    """Verdict changes: a take that differs from the one before, neither of them a draft."""
    drafted = Review.objects.filter(
        LOW_CAPABILITY,
        tool=OuterRef("tool"),
        persona=OuterRef("persona"),
        version=OuterRef("version") - 1,
    )
    reviews = (
        Review.objects.filter(created_at__gte=week.start, created_at__lt=week.end)
        .exclude(previous_verdict="")
        .exclude(previous_verdict=F("verdict"))
        .exclude(LOW_CAPABILITY)
        .exclude(Exists(drafted))
        .select_related("tool__category", "persona")
        .order_by("created_at", "pk")
    )
    by_tool: dict[int, list[Review]] = {}
    for review in reviews:
        by_tool.setdefault(review.tool_id, []).append(review)
    panels = panel_summaries(sorted(by_tool))
    community = community_summaries(sorted(by_tool))
    votes = _votes_scores([community[tool_id].total for tool_id in by_tool])
    items = []
    for (tool_id, flips), votes_score in zip(by_tool.items(), votes, strict=True):
        tool = flips[0].tool
        latest = max(review.created_at for review in flips)
        score = _recency(latest, week) + FLIP_BONUS * len(flips) + votes_score
        items.append(
            {
                "kind": "flip",
                "title": tool.name,
                "path": tool_path(tool),
                "categories": [tool.category.slug],
                "category_names": [tool.category.name],
                "at": latest.isoformat(),
                "changes": [
                    {
                        "persona": review.persona.name,
                        "before": review.get_previous_verdict_display(),
                        "after": review.get_verdict_display(),
                    }
                    for review in flips
                ],
                "panel": _panel_text(panels[tool_id]),
                "community": _community_text(community[tool_id]),
                "score": round(score, 4),
            }
        )
    return items


def _new_tool_items(week: Week) -> list[dict]:
    """Tools that entered the catalog from ingest this week (accepted `new` candidates)."""
    accepted = (
        Candidate.objects.filter(
            status=Status.ACCEPTED,
            decided_at__gte=week.start,
            decided_at__lt=week.end,
            tool__created_at__gte=week.start,
        )
        .select_related("tool__category")
        .order_by("decided_at", "pk")
    )
    tools = {candidate.tool_id: candidate for candidate in accepted}.values()
    panels = panel_summaries([candidate.tool_id for candidate in tools])
    return [
        {
            "kind": "new_tool",
            "title": candidate.tool.name,
            "path": tool_path(candidate.tool),
            "categories": [candidate.tool.category.slug],
            "category_names": [candidate.tool.category.name],
            "at": candidate.decided_at.isoformat(),
            "summary": _excerpt(candidate.tool.tagline or candidate.tool.description),
            "panel": _panel_text(panels[candidate.tool_id]),
            "score": round(_recency(candidate.decided_at, week), 4),
        }
        for candidate in tools
    ]


def _decided(items: list[dict]) -> tuple[list[dict], dict | None]:
    """The best comparisons whose two panels are verdicts, at most the setting's number;
    the others become one "more on the site" item."""
    limit = settings.NEWSLETTER_MAX_COMPARISONS
    ranked = sorted(items, key=lambda item: -item["score"])
    complete = [item for item in ranked if item.get("complete")]
    kept = complete[:limit]
    rest = [item for item in ranked if item not in kept]
    if not rest:
        return kept, None
    more = {
        "kind": "more",
        "title": f"{len(rest)} more comparisons",
        "path": "/",
        "count": len(rest),
        "categories": sorted({slug for item in rest for slug in item["categories"]}),
        "category_names": [],
        "score": 0,
    }
    return kept, more


KIND_ORDER = {"new_tool": 0, "flip": 1, "comparison": 2, "more": 3}


def week_items(week: Week) -> list[dict]:
    """What is new and decided this week: new tools, verdict changes, then at most
    NEWSLETTER_MAX_COMPARISONS comparisons whose two panels are verdicts (complete, no draft);
    the rest is one link.

    Comparisons rank by recency, reader votes (pair and tool votes, log scale) and panel
    figures: split pairs above agreeing ones.
    """
    comparisons, more = _decided(_comparison_items(week))
    items = _new_tool_items(week) + _flip_items(week) + comparisons + ([more] if more else [])
    return sorted(items, key=lambda item: (KIND_ORDER[item["kind"]], -item["score"]))


def digest_sections(items: list[dict]) -> dict[str, list[dict]]:
    """The items of a digest by section, in the order a reader meets them."""
    return {
        "new_tools": [item for item in items if item["kind"] == "new_tool"],
        "flips": [item for item in items if item["kind"] == "flip"],
        "comparisons": [item for item in items if item["kind"] == "comparison"],
        "more": [item for item in items if item["kind"] == "more"],
    }


def items_for(items: list[dict], category_slugs: frozenset[str]) -> list[dict]:
    """Keep the items that touch one of these categories; no categories means all."""
    if not category_slugs:
        return items
    return [item for item in items if category_slugs.intersection(item["categories"])]
