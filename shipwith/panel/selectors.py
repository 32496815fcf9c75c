"""Reads of panel results that pages, feeds and commands share."""

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from shipwith.catalog.models import Tool
from shipwith.panel import prompts
from shipwith.panel.llm import LLMError, default_model_spec, model_for
from shipwith.panel.models import (
    LOW_CAPABILITY,
    PanelRun,
    Persona,
    Review,
    RunStatus,
    Seat,
    SeatStatus,
    Verdict,
    is_low_capability,
)


@dataclass
class PanelSummary:
    """A tool's panel as readers see it: the current review of every active persona."""

    reviews: list[Review] = field(default_factory=list)
    seats: int = 4

    @property
    def completed(self) -> int:
        return len(self.reviews)

    @property
    def ships(self) -> int:
        return sum(review.verdict == Verdict.SHIP for review in self.reviews)

    @property
    def is_complete(self) -> bool:
        """A panel missing a reviewer is incomplete and never shown as a headline figure."""
        return self.seats > 0 and self.completed >= self.seats

    @property
    def drafts(self) -> int:
        """Current takes written by a low-capability model (the embedded one)."""
        return sum(review.is_low_capability for review in self.reviews)

    @property
    def is_draft(self) -> bool:
        """Any take from a low-capability model makes the panel a draft, complete or not:
        shown with its takes and how to get a verdict, never as a headline figure."""
        return self.drafts > 0

    @property
    def is_verdict(self) -> bool:
        """Complete and no draft: the only panel shown as a figure, picked from or sent."""
        return self.is_complete and not self.is_draft

    @property
    def ship_share(self) -> float | None:
        """Ship ÷ completed reviews, only for a verdict (complete, not a draft)."""
        return self.ships / self.completed if self.is_verdict else None

    @property
    def ship_percent(self) -> int | None:
        share = self.ship_share
        return None if share is None else round(share * 100)


def panel_summaries(tool_ids: list[int]) -> dict[int, PanelSummary]:
    """Return the panel of each tool in two queries, whatever the number of tools."""
    personas = list(Persona.objects.filter(active=True).values_list("pk", flat=True))
    summaries = {tool_id: PanelSummary(seats=len(personas)) for tool_id in tool_ids}
    reviews = (
        Review.objects.filter(tool_id__in=tool_ids, is_current=True, persona_id__in=personas)
        .select_related("persona")
        .order_by("persona__position", "persona__key")
    )
    for review in reviews:
        summaries[review.tool_id].reviews.append(review)
    return summaries


PANEL_STATES = ("ship", "skip", "split", "incomplete", "draft")


def _current_reviews(tool) -> QuerySet:
    return Review.objects.filter(tool=tool, is_current=True, persona__active=True)


def tools_with_panel(tools: QuerySet, state: str) -> QuerySet:
    """Keep the tools whose panel is in `state`, by PanelSummary's rule, in SQL.

    "ship"/"skip": a verdict (complete, no draft take) where most reviewers ship/skip; "split":
    a verdict that ties; "incomplete": a reviewer is missing; "draft": a take is from a
    low-capability model.
    """
    if state not in PANEL_STATES:
        raise ValueError(f"unknown panel state {state!r}")
    seats = Persona.objects.filter(active=True).count()
    current = _current_reviews(OuterRef("pk"))

    def counted(reviews: QuerySet) -> Coalesce:
        total = reviews.order_by().values("tool").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(total), 0)

    tools = tools.annotate(
        panel_done=counted(current),
        panel_ships=counted(current.filter(verdict=Verdict.SHIP)),
        panel_drafts=counted(current.filter(LOW_CAPABILITY)),
    )
    if state == "draft":
        return tools.filter(panel_drafts__gt=0)
    if state == "incomplete":
        return tools.filter(panel_done__lt=seats) if seats else tools
    if not seats:
        return tools.none()
    tools = tools.filter(panel_done__gte=seats, panel_drafts=0)
    if state == "ship":
        return tools.filter(panel_done__lt=2 * F("panel_ships"))
    if state == "skip":
        return tools.filter(panel_done__gt=2 * F("panel_ships"))
    return tools.filter(panel_done=2 * F("panel_ships"))


def verdict_since(tool: OuterRef) -> Subquery:
    """When the tool's panel became the verdict it is now, by PanelSummary's rule, in SQL.

    The newest of its current takes (the last one in made it complete, or replaced a draft);
    null while the panel is incomplete or a draft.
    """
    seats = Persona.objects.filter(active=True).count()
    verdicts = (
        _current_reviews(tool)
        .order_by()
        .values("tool")
        .annotate(
            done=Count("pk"),
            drafts=Count("pk", filter=LOW_CAPABILITY),
            newest=Max("created_at"),
        )
        .filter(done__gte=max(seats, 1), drafts=0)
    )
    return Subquery(verdicts.values("newest")[:1])


def panel_summary(tool_id: int) -> PanelSummary:
    return panel_summaries([tool_id])[tool_id]


def tools_lacking_panel() -> list[int]:
    """Ids of tools that have never had a panel run finish with a review or a seat to retry.

    A run that ended with every seat failed or recused is finished in place by
    `runs_to_finish` (its seats asked again), never replaced by a new run on each `up`.
    """
    reviewed = PanelRun.objects.filter(
        Q(status__in=[RunStatus.COMPLETE, RunStatus.INCOMPLETE])
        | Q(status=RunStatus.FAILED, seats__isnull=False)
    )
    rows = Tool.objects.exclude(pk__in=reviewed.values("tool_id")).values_list(
        "pk", "category_id", "name"
    )
    # Smallest category first, a category at a time: complete comparisons appear early
    # while a slow (embedded) panel works through the rest.
    sizes = Counter(category_id for _, category_id, _ in rows)
    rows = sorted(rows, key=lambda row: (sizes[row[1]], row[1], row[2]))
    return [pk for pk, _, _ in rows]


def runs_to_finish(*, exclude_tools: list[int] = ()) -> list[int]:
    """Ids of each tool's newest run when it has seats that failed or stay recused."""
    newest = PanelRun.objects.filter(tool=OuterRef("tool")).order_by("-created_at", "-pk")
    runs = PanelRun.objects.filter(pk=Subquery(newest.values("pk")[:1])).filter(
        status__in=[RunStatus.INCOMPLETE, RunStatus.FAILED],
        seats__status__in=[SeatStatus.FAILED, SeatStatus.RECUSED],
    )
    runs = runs.exclude(tool_id__in=list(exclude_tools))
    return list(runs.order_by("created_at", "pk").values_list("pk", flat=True).distinct())


def recused_seats(run_ids: list[int]) -> list[Seat]:
    """The seats of these runs that stay recused, for telling the editor how to fix them."""
    return list(
        Seat.objects.filter(run_id__in=run_ids, status=SeatStatus.RECUSED).select_related(
            "persona", "run__tool"
        )
    )


def empty_seats(tool_ids: list[int]) -> dict[int, dict[int, Seat]]:
    """Why each persona has no current take of each tool: its seat in the tool's newest run.

    Returns {tool id: {persona id: seat}} for failed and recused seats, in one query.
    """
    seats = (
        Seat.objects.filter(
            run__tool_id__in=tool_ids,
            status__in=[SeatStatus.FAILED, SeatStatus.RECUSED],
            persona__active=True,
        )
        .select_related("run", "persona")
        .order_by("run__created_at", "run_id")
    )
    found: dict[int, dict[int, Seat]] = {tool_id: {} for tool_id in tool_ids}
    for seat in seats:  # newest run last: its seat wins
        found[seat.run.tool_id][seat.persona_id] = seat
    return found


def panel_label(summary: PanelSummary) -> str:
    """The panel figure as text: "75% ship (3 of 4)" only for a verdict."""
    if summary.is_verdict:
        return f"{summary.ship_percent}% ship ({summary.ships} of {summary.completed})"
    if summary.is_draft:
        missing = "" if summary.is_complete else f", {summary.completed} of {summary.seats} reviews"
        return (
            f"draft, no verdict: {summary.drafts} of {summary.completed} takes by the embedded "
            f"model{missing}"
        )
    return f"{summary.completed} of {summary.seats} reviews: incomplete"


@dataclass
class Methodology:
    """What the methodology page shows: the live personas and the rules every reviewer gets."""

    personas: list[Persona]
    rules: str
    prompt_layout: str
    default_model: str
    default_is_low_capability: bool


def methodology() -> Methodology:
    spec = default_model_spec()
    try:
        low = is_low_capability(model_for(spec).provider)
    except LLMError:
        low = False
    return Methodology(
        personas=list(Persona.objects.filter(active=True)),
        rules=prompts.system_prompt(),
        prompt_layout=prompts.LAYOUT,
        default_model=spec,
        default_is_low_capability=low,
    )
