"""Template tags the pages use to show community figures and vote forms.

Placeholder until the votes issue lands: the community figure is "—" and there is no form.
"""

from django import template

register = template.Library()


@register.inclusion_tag("votes/_community.html")
def community_figure(tool):
    """Render the card's *Community* figure for `tool`."""
    return {"tool": tool, "figure": None}


@register.inclusion_tag("votes/_tool_vote.html", takes_context=True)
def tool_vote_form(context, tool):
    """Render the ship/skip vote form for `tool`."""
    return {"tool": tool, "request": context.get("request")}


@register.inclusion_tag("votes/_pair_vote.html", takes_context=True)
def pair_vote_form(context, tool_a, tool_b):
    """Render the "which would you ship with?" form for a pair."""
    return {"tool_a": tool_a, "tool_b": tool_b, "request": context.get("request")}
