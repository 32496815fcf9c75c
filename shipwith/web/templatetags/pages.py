"""Small server-rendered charts and labels shared by the page templates."""

import json

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from shipwith.catalog.pairs import pair_slug
from shipwith.core.text import web_url
from shipwith.panel.selectors import PanelSummary
from shipwith.votes.selectors import CommunityFigure

register = template.Library()
register.filter("web_url", web_url)

SEAT = 22
GAP = 4


@register.inclusion_tag("web/charts/split.svg")
def panel_split(panel: PanelSummary, personas: list | None = None):
    """The 4-way split: one square per seat, filled by its reviewer's verdict."""
    seats = []
    by_persona = {review.persona_id: review for review in panel.reviews}
    order = personas if personas is not None else [review.persona for review in panel.reviews]
    for persona in order:
        review = by_persona.get(persona.pk)
        seats.append(
            {
                "name": persona.name,
                "initial": persona.name[:1],
                "verdict": review.verdict if review else "none",
            }
        )
    # One dict per empty seat: positions are set on each below.
    seats += [
        {"name": "Seat not filled", "initial": "", "verdict": "none"}
        for _ in range(panel.seats - len(seats))
    ]
    for index, seat in enumerate(seats):
        seat["x"] = index * (SEAT + GAP)
        seat["text_x"] = index * (SEAT + GAP) + SEAT / 2
    width = max(len(seats) * (SEAT + GAP) - GAP, SEAT)
    if panel.is_verdict:
        label = f"Panel split: {panel.ships} of {panel.completed} ship"
    elif panel.is_draft:
        label = f"Draft panel, no verdict: {panel.completed} of {panel.seats} takes"
    else:
        label = f"Panel incomplete: {panel.completed} of {panel.seats} reviews, {panel.ships} ship"
    return {"seats": seats, "width": width, "size": SEAT, "label": label}


@register.inclusion_tag("web/charts/community_bar.svg")
def community_bar(community: CommunityFigure, name: str = ""):
    """A bar of readers' ship share, or an empty track until the figure shows."""
    width = 160
    shown = community.percent is not None
    filled = round(width * community.percent / 100) if shown else 0
    if shown:
        label = f"{name} community: {community.percent}% ship of {community.total} votes"
    else:
        label = f"{name} community: not enough votes yet"
    return {"width": width, "filled": filled, "shown": shown, "label": label.strip()}


@register.simple_tag
def compare_url(a, b) -> str:
    """The canonical comparison URL of two tools, in either order."""
    return reverse("web:compare", args=[pair_slug(a, b)])


@register.filter
def verdict_word(verdict: str) -> str:
    return {"ship": "Ship", "skip": "Skip"}.get(verdict, "—")


_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.filter
def jsonld(data: dict) -> str:
    """Serialise JSON-LD for a <script type="application/ld+json"> block, HTML-safe."""
    text = json.dumps(data, ensure_ascii=False, default=str).translate(_JSON_ESCAPES)
    return mark_safe(text)  # every character that could close the block is escaped above
