"""Template tags the pages use to show community figures and vote forms.

`{% community_figure tool %}` costs no query when the page loaded its tools with
`select_related("votes_tally")` or passed them through `selectors.community_figures(tools)`,
and one small query otherwise.
"""

from django import template
from django.urls import reverse

from shipwith.votes import selectors
from shipwith.votes.identity import request_voter_id_or_none

register = template.Library()


@register.inclusion_tag("votes/_community.html")
def community_figure(tool, detail: bool = False):
    """Render the card's *Community* figure for `tool` (with its interval when `detail`)."""
    return {"tool": tool, "figure": selectors.community_figure(tool), "detail": detail}


def _voter_id(request) -> int | None:
    if request is None:
        return None
    # One lookup per request, however many forms the page shows.
    if not hasattr(request, "_votes_voter_id"):
        request._votes_voter_id = request_voter_id_or_none(request)
    return request._votes_voter_id


def tool_context(tool, voter_id: int | None, request) -> dict:
    return {
        "tool": tool,
        "figure": selectors.community_figure_with_panel(tool),
        "current": selectors.voter_vote(voter_id, tool.pk),
        "action": reverse("votes:tool", args=[tool.slug]),
        "withdraw_action": reverse("votes:tool_withdraw", args=[tool.slug]),
        "next": request.get_full_path() if request is not None else "",
    }


def pair_context(tool_a, tool_b, voter_id: int | None, request) -> dict:
    if tool_b.slug < tool_a.slug:
        tool_a, tool_b = tool_b, tool_a
    pair = f"{tool_a.slug}-vs-{tool_b.slug}"
    tally = selectors.pair_tally(tool_a.pk, tool_b.pk)
    return {
        "tool_a": tool_a,
        "tool_b": tool_b,
        "pair": pair,
        "tally": tally,
        "current": selectors.voter_pair_choice(voter_id, tool_a.pk, tool_b.pk),
        "action": reverse("votes:pair", args=[pair]),
        "withdraw_action": reverse("votes:pair_withdraw", args=[pair]),
        "next": request.get_full_path() if request is not None else "",
    }


def _with_csrf(context, values: dict) -> dict:
    values["csrf_token"] = context.get("csrf_token")
    return values


@register.inclusion_tag("votes/_tool_vote.html", takes_context=True)
def tool_vote_form(context, tool):
    """Render the ship/skip vote form for `tool`."""
    request = context.get("request")
    return _with_csrf(context, tool_context(tool, _voter_id(request), request))


@register.inclusion_tag("votes/_pair_vote.html", takes_context=True)
def pair_vote_form(context, tool_a, tool_b):
    """Render the "which would you ship with?" form for a pair."""
    request = context.get("request")
    return _with_csrf(context, pair_context(tool_a, tool_b, _voter_id(request), request))
