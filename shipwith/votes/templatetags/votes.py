"""Template tags the pages use to show community figures and vote forms.

`{% community_figure tool %}` costs no query when the page loaded its tools with
`select_related("votes_tally")` or passed them through `selectors.community_figures(tools)`,
and one small query otherwise.

The vote forms render the same for every reader (pages are cached and shared): the reader's own
vote is filled in by votes.js from the vote URL, or shown when the page sets `votes_personal`
(the vote pages of this app, which are never cached).
"""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from shipwith.votes import selectors
from shipwith.votes.identity import request_voter_id_or_none

register = template.Library()


@register.inclusion_tag("votes/_community.html")
def community_figure(tool, detail: bool = False):
    """Render the card's *Community* figure for `tool` (with its interval when `detail`)."""
    return {"tool": tool, "figure": selectors.community_figure(tool), "detail": detail}


def _personal(context) -> bool:
    return bool(context.get("votes_personal")) and context.get("request") is not None


def _voter_id(context) -> int | None:
    request = context.get("request")
    if not _personal(context):
        return None
    # One lookup per request, however many forms the page shows.
    if not hasattr(request, "_votes_voter_id"):
        request._votes_voter_id = request_voter_id_or_none(request)
    return request._votes_voter_id


def _next(request) -> str:
    return request.get_full_path() if request is not None else ""


def _just_voted(request, key: str) -> bool:
    """The no-JavaScript redirect comes back with ?voted=… so the (shared) page can say so."""
    return request is not None and request.GET.get("voted") == key


_UNKNOWN = object()


def tool_context(tool, voter_id: int | None, request, *, personal: bool, current=_UNKNOWN) -> dict:
    action = reverse("votes:tool", args=[tool.slug])
    return {
        "tool": tool,
        "figure": selectors.community_figure_with_panel(tool),
        "personal": personal,
        "current": selectors.voter_vote(voter_id, tool.pk) if current is _UNKNOWN else current,
        "just_voted": _just_voted(request, tool.slug),
        "action": action,
        "withdraw_action": reverse("votes:tool_withdraw", args=[tool.slug]),
        "next": _next(request),
        "state_url": f"{action}?{urlencode({'next': _next(request)})}",
    }


def pair_context(tool_a, tool_b, voter_id: int | None, request, *, personal: bool) -> dict:
    if tool_b.slug < tool_a.slug:
        tool_a, tool_b = tool_b, tool_a
    pair = f"{tool_a.slug}-vs-{tool_b.slug}"
    action = reverse("votes:pair", args=[pair])
    return {
        "tool_a": tool_a,
        "tool_b": tool_b,
        "pair": pair,
        "tally": selectors.pair_tally(tool_a.pk, tool_b.pk),
        "personal": personal,
        "current": selectors.voter_pair_choice(voter_id, tool_a.pk, tool_b.pk),
        "just_voted": _just_voted(request, pair),
        "action": action,
        "withdraw_action": reverse("votes:pair_withdraw", args=[pair]),
        "next": _next(request),
        "state_url": f"{action}?{urlencode({'next': _next(request)})}",
    }


def _with_csrf(context, values: dict) -> dict:
    values["csrf_token"] = context.get("csrf_token")
    return values


@register.inclusion_tag("votes/_tool_vote.html", takes_context=True)
def tool_vote_form(context, tool):
    """Render the ship/skip vote form for `tool`."""
    request = context.get("request")
    return _with_csrf(
        context, tool_context(tool, _voter_id(context), request, personal=_personal(context))
    )


@register.inclusion_tag("votes/_pair_vote.html", takes_context=True)
def pair_vote_form(context, tool_a, tool_b):
    """Render the "which would you ship with?" form for a pair."""
    request = context.get("request")
    return _with_csrf(
        context,
        pair_context(tool_a, tool_b, _voter_id(context), request, personal=_personal(context)),
    )
