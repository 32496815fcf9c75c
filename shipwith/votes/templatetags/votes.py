"""Template tags the pages use to show community figures and vote forms.

`{% community_figure tool %}` costs no query when the page loaded its tools with
`select_related("votes_tally")` or passed them through `selectors.community_figures(tools)`,
and one small query otherwise.

The vote forms render the same for every reader (pages are cached and shared), with no CSRF
token (shipwith.core.csrf checks where the post comes from): the reader's own vote is filled in
by votes.js from the vote URL, or shown when the page sets `votes_personal` (the vote pages of
this app, which are never cached).
"""

from django import template

from shipwith.votes import selectors
from shipwith.votes.identity import request_voter_id_or_none
from shipwith.votes.widgets import community_html, pair_context, tool_context

register = template.Library()


@register.simple_tag
def community_figure(tool, detail: bool = False):
    """Render the card's *Community* figure for `tool` (with its interval when `detail`)."""
    return community_html(tool.pk, selectors.community_figure(tool), detail)


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
