"""Small server-rendered charts and labels shared by the page templates."""

import datetime as dt
import json

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from shipwith.catalog.facts import FACTS
from shipwith.catalog.pairs import pair_slug
from shipwith.catalog.selectors import FactReading, FactRow, FactSource
from shipwith.comparisons.pricing import tokens_short, usd
from shipwith.core.text import web_url
from shipwith.panel.selectors import PanelSummary
from shipwith.votes.selectors import CommunityFigure
from shipwith.web.facts import source_name

register = template.Library()
register.filter("web_url", web_url)
register.filter("usd", usd)
register.filter("tokens", tokens_short)

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


@register.simple_tag
def source_link(source: FactSource | None) -> SafeString:
    """The source's name, linked when it is a web page."""
    name = source_name(source)
    href = web_url(source.url) if source else ""
    if href:
        return format_html('<a href="{}" rel="nofollow noopener">{}</a>', href, name)
    return format_html("{}", name)


def age(moment: dt.datetime, now: dt.datetime | None = None) -> str:
    """ "read 3 h ago": minutes are not shown, since a page keeps its text a few minutes."""
    seconds = max(0, ((now or timezone.now()) - moment).total_seconds())
    if seconds < 3600:
        return "read less than an hour ago"
    if seconds < 48 * 3600:
        return f"read {int(seconds // 3600)} h ago"
    return f"read {int(seconds // 86400)} days ago"


def _unread(row: FactRow | FactReading) -> str:
    return f"not read for {(timezone.now() - row.read_at).days} days"


@register.simple_tag
def fact_age(row: FactRow | FactReading) -> SafeString:
    """When the fact was read ("read 3 h ago"), or that it has not been for N days."""
    if row.stale:
        text, css = _unread(row), "stale"
    else:
        text, css = age(row.read_at), "muted"
    return format_html(
        '<time class="{}" datetime="{}" title="{}">{}</time>',
        css,
        row.read_at.isoformat(),
        f"{row.read_at.astimezone(dt.UTC):%-d %b %Y %H:%M} UTC",
        text,
    )


def _said(reading: FactRow | FactReading, key: str) -> tuple[SafeString, str]:
    return source_link(reading.source), FACTS[key].type.display(reading.value)


@register.simple_tag
def conflict_line(row: FactRow) -> SafeString:
    """ "OpenRouter says $0.60, models.dev says $0.80": the chosen value first."""
    said = [_said(row, row.key)] + [_said(reading, row.key) for reading in row.conflicts]
    return format_html_join(", ", "{} says {}", said)


@register.simple_tag
def fact_cell(row: FactRow) -> SafeString:
    """A facts table's cell: the value linked to its source, marked stale or disputed."""
    value = FACTS[row.key].type.display(row.value)
    href = web_url(row.source.url) if row.source else ""
    where = f"{source_name(row.source)}, {age(row.read_at)}"
    if href:
        cell = format_html(
            '<a href="{}" rel="nofollow noopener" title="{}">{}</a>', href, where, value
        )
    else:
        cell = format_html('<span title="{}">{}</span>', where, value)
    if row.stale:
        cell = format_html('{} <span class="stale" title="{}">stale</span>', cell, _unread(row))
    if row.conflicts:
        cell = format_html('{} <em class="disputed">sources disagree</em>', cell)
    return cell
