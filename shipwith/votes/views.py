"""Vote endpoints (form POST + redirect, or fetch + JSON) and the leaderboard."""

from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from shipwith.catalog.models import Category, Tool
from shipwith.catalog.pairs import canonical, pair_resolve, pair_slug
from shipwith.core.client import client_ip
from shipwith.core.csrf import fetch_metadata_protect
from shipwith.core.limits import limits_waits, rolling_limit_exceeded
from shipwith.core.rates import rate_setting
from shipwith.votes import selectors, services, statements
from shipwith.votes.identity import (
    ForgedCookie,
    request_voter_id,
    request_voter_id_or_none,
    voted_flag_set,
    voter_cookie_set,
)
from shipwith.votes.models import PairChoice, Voter
from shipwith.votes.widgets import community_html, pair_context, tool_context

LEADERBOARD_PAGE = 100


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.META.get("HTTP_ACCEPT", "")


def _refuse(request: HttpRequest, status: int, message: str, retry_after: int = 0):
    if _wants_json(request):
        response = JsonResponse({"error": message}, status=status)
    else:
        response = render(request, "votes/refused.html", {"message": message}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _safe_next(request: HttpRequest, target: str, fallback: Callable[[], str]) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target.split("#")[0]
    return fallback()


def _back(request: HttpRequest, target: str, key: str, anchor: str) -> HttpResponse:
    """Redirect to the page the form was on, saying (in the URL) that the vote went in."""
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "voted"] + [("voted", key)]
    # Not redirect(): it first tries the URL as a view name, and fails, on every vote.
    return HttpResponseRedirect(urlunsplit(parts._replace(query=urlencode(query), fragment=anchor)))


Refusal = HttpResponse | None


def _vote(
    request: HttpRequest,
    write: Callable[[int], object],
    exists: Callable[[], bool] = lambda: True,
) -> tuple[Refusal, Voter | None]:
    """Identify the voter, apply the rate limits and write; return a refusal or the new voter.

    `exists` says whether what is voted on exists, asked before a voter is minted for it.
    """
    try:
        voter_id = request_voter_id(request)
    except ForgedCookie:
        return _refuse(request, 400, "Your voter cookie is not one we issued."), None
    if refusal := _limited(request, voter_id):
        return refusal, None
    new_voter = None
    for attempt in range(2):
        if voter_id is None:
            if attempt and (refusal := _limited(request, None)):
                return refusal, None  # a signed id for a voter since deleted mints one too
            if not exists():
                raise Http404("Nothing to vote on here.")
            user = request.user if request.user.is_authenticated else None
            new_voter = services.voter_create(user=user)
            voter_id = new_voter.pk
        try:
            write(voter_id)
            return None, new_voter
        except Voter.DoesNotExist:  # a signed id for a voter since deleted: start afresh
            voter_id = None
        except services.DailyCapReached:
            return _refuse(request, 429, "You have reached today's vote limit."), None
    raise RuntimeError("could not create a voter")


# Said when a limit holds a vote back, most telling first.
LIMITED = {
    "new": "Too many new voters from your network today; try again later.",
    "ip": "Too many votes from your network; try again soon.",
    "voter": "You are voting very fast; try again soon.",
}


def _limited(request: HttpRequest, voter_id: int | None) -> Refusal:
    """Count this vote against its address and its voter (or the voters the address mints).

    Cookies cost a script nothing, so a vote that mints a voter is the one that can stuff the
    count: an address mints at most SHIPWITH_VOTES_NEW_VOTERS_PER_IP voters a day, and past
    that its cookie-less votes are refused with 429, not quietly held. A refusal writes
    nothing and tells the reader, where a held vote would look counted and not be.
    """
    address = client_ip(request)
    rates = {"ip": (f"votes:ip:{address}", rate_setting("SHIPWITH_VOTES_RATE_IP"))}
    if voter_id is not None:
        rates["voter"] = (f"votes:voter:{voter_id}", rate_setting("SHIPWITH_VOTES_RATE_VOTER"))
    waits = limits_waits(dict(rates.values()))
    mints = voter_id is None and not request.user.is_authenticated
    # Only a vote the other limits let through takes one of the address's new voters; they
    # are counted over any 24 hours, so midnight UTC lets no second batch through.
    if mints and not any(waits.values()):
        key = f"votes:new-voter:{address}"
        if wait := rolling_limit_exceeded(key, rate_setting("SHIPWITH_VOTES_NEW_VOTERS_PER_IP")):
            return _refuse(request, 429, LIMITED["new"], wait)
    for kind, message in LIMITED.items():
        if kind in rates and (wait := waits[rates[kind][0]]):
            return _refuse(request, 429, message, wait)
    return None


def _respond(request, new_voter, *, payload, target: Callable[[], str], key, anchor):
    if new_voter is not None:
        # The widget is rendered for this voter before its cookie comes back from the browser.
        request._votes_new_voter_id = new_voter.pk
    if _wants_json(request):
        response = JsonResponse(payload())
    else:
        response = _back(request, target(), key, anchor)
    if new_voter is not None:
        voter_cookie_set(response, request, new_voter)
    voted_flag_set(response, request)
    return response


def _figures_html(tools: list[Tool]) -> dict[str, str]:
    return {
        str(tool.pk): community_html(tool.pk, selectors.community_figure(tool)) for tool in tools
    }


def _tool_figures(tool_id: int, tally: tuple[int, int] | None) -> dict[str, dict[str, str]]:
    """The tool's Community figure, short (cards) and detailed (the vote widget).

    From the tally the vote just wrote when it moved one (no query), else read.
    """
    if tally is None:
        figure = selectors.community_summaries([tool_id])[tool_id]
    else:
        figure = selectors.CommunityFigure(*tally)
    return {
        "figures": {str(tool_id): community_html(tool_id, figure)},
        "details": {str(tool_id): community_html(tool_id, figure, detail=True)},
    }


def _widget(template: str, context: dict, request: HttpRequest) -> str:
    return render_to_string(template, context, request=request)


@fetch_metadata_protect
@require_http_methods(["GET", "POST"])
def tool_vote(request: HttpRequest, slug: str, withdraw: bool = False) -> HttpResponse:
    """GET: the reader's vote form for a tool. POST: cast (or withdraw) a ship/skip vote."""
    data = request.POST if request.method == "POST" else request.GET

    def target() -> str:  # only a redirect or a widget needs it
        return _safe_next(request, data.get("next", ""), lambda: reverse("web:tool", args=[slug]))

    if request.method == "GET":
        tool = get_object_or_404(Tool.objects.select_related("category"), slug=slug)
        if not _wants_json(request):
            return render(request, "votes/tool_page.html", {"tool": tool, "votes_personal": True})
        voter_id = request_voter_id_or_none(request)
        context = tool_context(tool, voter_id, request, personal=True) | {"next": target()}
        html = _widget("votes/_tool_vote.html", context, request)
        return JsonResponse({"html": html, "figures": {}})
    value = None if withdraw else request.POST.get("value")
    if not withdraw and value not in ("ship", "skip"):
        return _refuse(request, 400, "A vote is either ship or skip.")
    # The tool is named by its slug in the vote itself: one statement finds it and counts the
    # vote (a form vote needs nothing else); only a first vote asks first, before it mints a
    # voter for a tool that may not exist.
    changes = []
    try:
        refusal, new_voter = _vote(
            request,
            lambda voter_id: changes.append(
                services.vote_cast(voter_id=voter_id, slug=slug, value=value)
            ),
            exists=lambda: statements.tool_id(slug) is not None,
        )
    except Tool.DoesNotExist:
        raise Http404("No such tool.") from None
    if refusal:
        return refusal
    change = changes[0]
    # With JavaScript the page updates its own widget from the vote and the tool's figures:
    # a few hundred bytes, rather than the widget rendered again.
    return _respond(
        request,
        new_voter,
        payload=lambda: {"current": change.current} | _tool_figures(change.tool_id, change.tally),
        target=target,
        key=slug,
        anchor=f"vote-{slug}",
    )


@fetch_metadata_protect
@require_POST
def tool_withdraw(request: HttpRequest, slug: str) -> HttpResponse:
    return tool_vote(request, slug, withdraw=True)


def _pair(pair: str) -> tuple[Tool, Tool]:
    tools = pair_resolve(pair)
    if tools is None or canonical(*tools) != tools:
        raise Http404("No such pair in canonical order (slug A < slug B).")
    return tools


@fetch_metadata_protect
@require_http_methods(["GET", "POST"])
def pair_vote(request: HttpRequest, pair: str, withdraw: bool = False) -> HttpResponse:
    """GET: the reader's pick for a pair. POST: "which would you ship with?" A, B or neither."""
    tool_a, tool_b = _pair(pair)
    key = pair_slug(tool_a, tool_b)
    data = request.POST if request.method == "POST" else request.GET

    def target() -> str:
        return _safe_next(request, data.get("next", ""), lambda: f"/compare/{key}/")

    def widget() -> str:
        voter_id = request_voter_id_or_none(request)
        context = pair_context(tool_a, tool_b, voter_id, request, personal=True)
        return _widget("votes/_pair_vote.html", context | {"next": target()}, request)

    if request.method == "GET":
        if _wants_json(request):
            return JsonResponse({"html": widget(), "figures": {}})
        context = {"tool_a": tool_a, "tool_b": tool_b, "votes_personal": True}
        return render(request, "votes/pair_page.html", context)
    choice = None if withdraw else request.POST.get("choice")
    if not withdraw and choice not in PairChoice.values:
        return _refuse(request, 400, "Choose A, B or neither.")
    refusal, new_voter = _vote(
        request,
        lambda voter_id: services.pair_vote_cast(
            voter_id=voter_id, tool_a_id=tool_a.pk, tool_b_id=tool_b.pk, choice=choice
        ),
    )
    if refusal:
        return refusal
    return _respond(
        request,
        new_voter,
        payload=lambda: {"html": widget(), "figures": _figures_html([tool_a, tool_b])},
        target=target,
        key=key,
        anchor=f"pair-{key}",
    )


@fetch_metadata_protect
@require_POST
def pair_withdraw(request: HttpRequest, pair: str) -> HttpResponse:
    return pair_vote(request, pair, withdraw=True)


def leaderboard(request: HttpRequest, category: str | None = None) -> HttpResponse:
    """The head-to-head leaderboard, overall or for one category, 100 tools a page."""
    category_obj = get_object_or_404(Category, slug=category) if category else None
    fit, ratings = selectors.leaderboard(category_obj)
    context = {
        "fit": fit,
        "page": Paginator(ratings, LEADERBOARD_PAGE).get_page(request.GET.get("page")),
        "category": category_obj,
        "categories": selectors.categories_rated(),
    }
    return render(request, "votes/leaderboard.html", context)
