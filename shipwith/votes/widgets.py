"""What the vote widgets show: the context their templates render, for tags and views alike.

The widgets render the same for every reader unless `personal` (pages are cached and shared);
votes.js then asks the vote URL for the reader's own state.
"""

from urllib.parse import urlencode

from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from shipwith.catalog.pairs import canonical, pair_slug
from shipwith.votes import selectors


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
    tool_a, tool_b = canonical(tool_a, tool_b)
    pair = pair_slug(tool_a, tool_b)
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


def community_html(
    tool_id: int, figure: selectors.CommunityFigure, detail: bool = False
) -> SafeString:
    """The *Community* figure as HTML: a share from the minimum of votes on, else how many more.

    Written in Python, not a template: it is on every card and in every vote's JSON answer.
    With `detail` it adds the interval (or the count) that the vote widget shows. Every value
    in it is a whole number (int() makes sure), so there is nothing to escape.
    """
    attrs = f' data-votes-figure="{int(tool_id)}"' + (" data-votes-detail" if detail else "")
    total = int(figure.total)
    if figure.shown:
        inner = (
            f'<span class="figure-value">{int(figure.percent)}%</span> '
            f'<span class="figure-count">{int(figure.ships)} of {total} ship</span>'
        )
        if detail:
            low, high = figure.interval
            inner += (
                ' <span class="figure-interval" title="Wilson 95% interval">'
                f"95% interval {int(low)}–{int(high)}%</span>"
            )
    else:
        needed = int(figure.needed)
        inner = f'<span class="figure-value" title="Shown from {total + needed} votes">—</span>'
        if detail:
            inner += (
                f' <span class="figure-count">{total} vote{pluralize(total)}, '
                f"{needed} more to show a share</span>"
            )
    return mark_safe(f'<span class="community-figure"{attrs}>{inner}</span>')
