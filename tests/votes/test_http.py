"""Every voting rule as a reader (or an abuser) meets it over HTTP."""

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client

from shipwith.panel.models import Persona, Review
from shipwith.votes import leaderboard, services
from shipwith.votes.identity import COOKIE, FLAG
from shipwith.votes.models import PairVote, ToolTally, Vote, Voter, VoterExclusion

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def counts() -> dict:
    return {
        "voters": Voter.objects.count(),
        "votes": list(Vote.objects.values_list("voter_id", "tool_id", "value")),
        "pairs": list(PairVote.objects.values_list("voter_id", "tool_a_id", "tool_b_id", "choice")),
        "tallies": list(ToolTally.objects.values_list("tool_id", "ships", "skips")),
    }


def test_a_vote_without_javascript_redirects_back_and_sets_a_signed_cookie(client, tool):
    response = client.post("/tools/alpha/vote/", {"value": "ship", "next": "/tools/alpha/?tab=x"})
    assert response.status_code == 302
    assert response["Location"] == "/tools/alpha/?tab=x&voted=alpha#vote-alpha"
    voter_id = response.cookies[COOKIE].value.split(":")[0]  # signed: "id:timestamp:signature"
    assert Vote.objects.get().voter_id == int(voter_id)
    assert response.cookies[COOKIE]["httponly"] and response.cookies[FLAG].value == "1"
    # The same browser changes its vote: still one row, the tally follows.
    client.post("/tools/alpha/vote/", {"value": "skip"})
    assert list(Vote.objects.values_list("value", flat=True)) == ["skip"]
    assert ToolTally.objects.get(tool=tool).skips == 1 and ToolTally.objects.get().ships == 0


def test_the_redirect_never_leaves_the_site(client, tool):
    response = client.post("/tools/alpha/vote/", {"value": "ship", "next": "https://evil.example/"})
    assert response["Location"].startswith("/tools/alpha/?voted=alpha")


def test_a_vote_with_javascript_gets_the_updated_widget_and_figure(client, tool, settings):
    settings.SHIPWITH_VOTES_MIN = 1
    response = client.post("/tools/alpha/vote/", {"value": "ship", "next": "/tools/alpha/"}, **JSON)
    assert response.status_code == 200
    data = response.json()
    assert data["current"] == "ship"  # votes.js shows it in the widget
    assert "100%" in data["figures"][str(tool.pk)]
    assert "95% interval" in data["details"][str(tool.pk)]  # the widget's own figure
    assert "interval" not in data["figures"][str(tool.pk)]  # the cards' figures
    withdrawn = client.post("/tools/alpha/vote/withdraw/", {}, **JSON)
    assert withdrawn.json()["current"] is None
    assert "0 votes" in withdrawn.json()["details"][str(tool.pk)]
    assert not Vote.objects.exists() and ToolTally.objects.get().ships == 0


def test_the_vote_page_shows_the_readers_own_vote(client, tool):
    client.post("/tools/alpha/vote/", {"value": "skip"})
    page = client.get("/tools/alpha/vote/")
    assert page.status_code == 200
    assert "Your vote: skip." in page.text and "Withdraw my vote" in page.text
    assert 'type="module"' in page.text and "votes/votes.js" in page.text
    # Another reader sees no vote.
    assert "You have not voted" in Client().get("/tools/alpha/vote/").text


def test_every_vote_needs_the_csrf_token(tool):
    browser = Client(enforce_csrf_checks=True)
    before = counts()
    assert browser.post("/tools/alpha/vote/", {"value": "ship"}).status_code == 403
    assert browser.post("/compare/alpha-vs-beta/vote/", {"choice": "a"}).status_code == 403
    assert counts() == before
    page = browser.get("/tools/alpha/vote/")
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    ok = browser.post("/tools/alpha/vote/", {"value": "ship", "csrfmiddlewaretoken": token})
    assert ok.status_code == 302 and Vote.objects.count() == 1


@pytest.mark.parametrize(
    "path, data, status",
    [
        ("/tools/nope/vote/", {"value": "ship"}, 404),
        ("/tools/alpha/vote/", {"value": "maybe"}, 400),
        ("/tools/alpha/vote/", {}, 400),
        ("/compare/alpha-vs-beta/vote/", {"choice": "c"}, 400),
        ("/compare/beta-vs-alpha/vote/", {"choice": "a"}, 404),
        ("/compare/alpha-vs-alpha/vote/", {"choice": "a"}, 404),
        ("/compare/alpha-vs-nope/vote/", {"choice": "a"}, 404),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(client, tools, path, data, status):
    client.post("/tools/beta/vote/", {"value": "ship"})  # an existing voter with a vote
    before = counts()
    assert client.post(path, data).status_code == status
    assert client.post(path, data, **JSON).status_code == status
    assert counts() == before


def test_a_forged_cookie_is_refused(client, tool):
    client.post("/tools/alpha/vote/", {"value": "ship"})
    real = client.cookies[COOKIE].value
    before = counts()
    for forged in [real[:-2] + "xx", "7", signing.dumps("7")]:
        client.cookies[COOKIE] = forged
        response = client.post("/tools/alpha/vote/", {"value": "skip"}, **JSON)
        assert response.status_code == 400 and "cookie" in response.json()["error"]
    assert counts() == before


def test_a_cookie_for_a_voter_since_deleted_starts_a_new_voter(client, tool):
    client.post("/tools/alpha/vote/", {"value": "ship"})
    Voter.objects.all().delete()
    response = client.post("/tools/alpha/vote/", {"value": "skip"})
    assert response.status_code == 302
    assert Vote.objects.get().value == "skip" and Voter.objects.count() == 1


def test_per_voter_rate_limit_answers_429_with_retry_after(client, tools, settings):
    settings.SHIPWITH_VOTES_RATE_VOTER = "2/m"
    client.post("/tools/alpha/vote/", {"value": "ship"})  # creates the voter
    client.post("/tools/beta/vote/", {"value": "ship"})
    client.post("/tools/gamma/vote/", {"value": "ship"})
    before = counts()
    response = client.post("/tools/alpha/vote/", {"value": "skip"}, **JSON)
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert counts() == before
    # A different reader is not held back.
    assert Client().post("/tools/alpha/vote/", {"value": "skip"}).status_code == 302


def test_per_ip_rate_limit_holds_back_fresh_cookies_too(tools, settings):
    settings.SHIPWITH_VOTES_RATE_IP = "3/m"
    statuses = [
        Client().post("/tools/alpha/vote/", {"value": "ship"}).status_code for _ in range(5)
    ]
    assert statuses == [302, 302, 302, 429, 429]
    assert Vote.objects.count() == 3
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post("/tools/alpha/vote/", {"value": "ship"}).status_code == 302


def test_the_daily_cap_answers_429(client, tools, settings):
    settings.SHIPWITH_VOTES_DAILY_CAP = 2
    assert client.post("/tools/alpha/vote/", {"value": "ship"}).status_code == 302
    assert client.post("/compare/alpha-vs-beta/vote/", {"choice": "a"}).status_code == 302
    response = client.post("/tools/gamma/vote/", {"value": "ship"})
    assert response.status_code == 429 and "today" in response.text
    assert not Vote.objects.filter(tool__slug="gamma").exists()


def test_a_signed_in_reader_votes_as_their_account(client, tool):
    user = get_user_model().objects.create_user("reader", password="pw")
    client.force_login(user)
    response = client.post("/tools/alpha/vote/", {"value": "ship"})
    assert COOKIE not in response.cookies
    assert Vote.objects.get().voter.user == user
    client.post("/tools/alpha/vote/", {"value": "skip"})
    assert Vote.objects.get().value == "skip" and Voter.objects.count() == 1


def test_pair_votes_by_form_and_by_fetch(client, tools):
    response = client.post(
        "/compare/alpha-vs-beta/vote/", {"choice": "b", "next": "/compare/alpha-vs-beta/"}
    )
    assert response["Location"] == "/compare/alpha-vs-beta/?voted=alpha-vs-beta#pair-alpha-vs-beta"
    data = client.post("/compare/alpha-vs-beta/vote/", {"choice": "neither"}, **JSON).json()
    assert "You would ship with neither." in data["html"]
    assert "neither 1" in data["html"] and "Beta &lt;b&gt;LLM&lt;/b&gt; 0" in data["html"]
    assert PairVote.objects.get().choice == "neither"
    client.post("/compare/alpha-vs-beta/vote/withdraw/", {})
    assert not PairVote.objects.exists()


def test_community_figure_waits_for_the_minimum_then_shows_share_and_interval(tool, settings):
    settings.SHIPWITH_VOTES_MIN = 4
    for value in ["ship", "ship", "skip"]:
        Client().post("/tools/alpha/vote/", {"value": value})
    page = Client().get("/tools/alpha/vote/").text
    assert ">—<" in page and "1 more to show a share" in page
    Client().post("/tools/alpha/vote/", {"value": "ship"})
    page = Client().get("/tools/alpha/vote/").text
    assert "75%" in page and "3 of 4 ship" in page
    assert "95% interval 30–96%" in page  # Wilson interval for 3 of 4


def give_panel(tool, verdict: str) -> None:
    if not Persona.objects.filter(active=True).exists():
        for n, key in enumerate(["builder", "skeptic", "futurist", "operator"]):
            Persona.objects.create(
                key=key,
                name=key.title(),
                position=n,
                lens="-",
                priorities="-",
                deal_breakers="-",
                voice="-",
            )
    for persona in Persona.objects.filter(active=True):
        Review.objects.create(
            tool=tool,
            persona=persona,
            version=1,
            verdict=verdict,
            take="…",
            confidence=3,
            prompt_version=1,
            model_id="test",
            provider="test",
        )


def test_strong_disagreement_between_panel_and_community_is_flagged(tools, settings):
    settings.SHIPWITH_VOTES_MIN = 5
    alpha, beta = tools[0], tools[1]
    give_panel(alpha, "ship")
    give_panel(beta, "ship")
    for _ in range(12):
        Client().post("/tools/alpha/vote/", {"value": "skip"})
        Client().post("/tools/beta/vote/", {"value": "ship"})
    assert "Panel and community disagree" in Client().get("/tools/alpha/vote/").text
    assert "Panel and community disagree" not in Client().get("/tools/beta/vote/").text


def test_shared_pages_get_a_form_without_anyones_vote(client, tool, rf):
    from django.template import Context, Template

    client.post("/tools/alpha/vote/", {"value": "ship"})
    request = rf.get("/tools/alpha/?voted=alpha")
    request.COOKIES = dict(client.cookies.items()) and {COOKIE: client.cookies[COOKIE].value}
    html = Template("{% load votes %}{% tool_vote_form tool %}").render(
        Context({"tool": tool, "request": request, "csrf_token": "t"})
    )
    assert "Your vote" not in html and "Thanks, your vote is recorded." in html
    assert 'data-votes-state="/tools/alpha/vote/?next=%2Ftools%2Falpha%2F%3Fvoted%3Dalpha"' in html


def test_community_figure_tag_costs_no_query_with_select_related(tools, django_assert_num_queries):
    from django.template import Context, Template

    from shipwith.catalog.models import Tool

    services.vote_cast(voter_id=services.voter_create().pk, tool_id=tools[0].pk, value="ship")
    listed = list(Tool.objects.select_related("votes_tally"))
    template = Template("{% load votes %}{% for t in tools %}{% community_figure t %}{% endfor %}")
    with django_assert_num_queries(0):
        html = template.render(Context({"tools": listed}))
    assert html.count("data-votes-figure") == 3


def test_leaderboard_shows_ratings_intervals_and_votes(client, tools, other_category):
    assert "No head-to-head votes yet" in client.get("/leaderboard/").text
    a, b, c = tools
    for left, right, choice in [(a, b, "a")] * 6 + [(b, c, "a")] * 6 + [(a, c, "neither")]:
        services.pair_vote_cast(
            voter_id=services.voter_create().pk,
            tool_a_id=left.pk,
            tool_b_id=right.pk,
            choice=choice,
        )
    leaderboard.ratings_refit(rounds=20)
    page = client.get("/leaderboard/")
    assert page.status_code == 200
    rows = page.text.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert [row.split('">')[1].split("<")[0] for row in rows][0] == "Alpha Serve"
    assert "Beta &lt;b&gt;LLM&lt;/b&gt;" in page.text  # escaped
    assert "–" in rows[0] and "13 votes" in page.text
    category_page = client.get("/leaderboard/inference-servers/")
    assert category_page.status_code == 200 and "Alpha Serve" in category_page.text
    assert client.get("/leaderboard/vector-databases/").text.count("<tr>") == 0
    assert client.get("/leaderboard/nope/").status_code == 404


def test_an_editor_excludes_a_voter_in_the_admin_and_it_is_logged(client, tools):
    for _ in range(3):
        Client().post("/tools/alpha/vote/", {"value": "ship"})
    spammer = Client()
    spammer.post("/tools/alpha/vote/", {"value": "skip"})
    spammer_id = Vote.objects.get(value="skip").voter_id
    editor = get_user_model().objects.create_superuser("editor", "e@example.com", "pw")
    client.force_login(editor)
    assert "Exclude…" in client.get("/admin/votes/voter/").text
    response = client.post(
        "/admin/votes/voterexclusion/add/",
        {"voter": spammer_id, "excluded": "on", "reason": "skips everything from one IP"},
    )
    assert response.status_code == 302
    entry = VoterExclusion.objects.get()
    assert (entry.voter_id, entry.editor, entry.excluded) == (spammer_id, editor, True)
    assert ToolTally.objects.get(tool=tools[0]).skips == 0
    assert Voter.objects.get(pk=spammer_id).excluded
    log = client.get("/admin/votes/voterexclusion/").text
    assert "skips everything" in log
    # The log says how many votes the exclusion took out of the figures.
    row = log.split("skips everything")[0].rsplit("<tr", 1)[1]
    assert '<td class="field-vote_count">1</td>' in row
    assert '<td class="field-pair_vote_count">0</td>' in row
    voters = client.get("/admin/votes/voter/?excluded__exact=1").text
    assert '<td class="field-vote_count">1</td>' in voters


def test_behind_a_trusted_proxy_readers_are_told_apart_by_x_forwarded_for(tools, settings):
    settings.SHIPWITH_VOTES_RATE_IP = "1/m"
    settings.SHIPWITH_TRUSTED_PROXIES = "127.0.0.1"
    for address in ["203.0.113.1", "203.0.113.2"]:
        proxied = Client(HTTP_X_FORWARDED_FOR=f"6.6.6.6, {address}")
        assert proxied.post("/tools/alpha/vote/", {"value": "ship"}).status_code == 302
    # What the client wrote itself (left of nginx's entry) does not make it someone else.
    again = Client(HTTP_X_FORWARDED_FOR="6.6.6.7, 203.0.113.1")
    assert again.post("/tools/alpha/vote/", {"value": "ship"}).status_code == 429


def test_a_forwarded_header_from_an_untrusted_peer_is_ignored(tools, settings):
    settings.SHIPWITH_VOTES_RATE_IP = "1/m"
    settings.SHIPWITH_TRUSTED_PROXIES = "127.0.0.1"
    direct = Client(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert direct.post("/tools/alpha/vote/", {"value": "ship"}).status_code == 302
    other = Client(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.2")
    assert other.post("/tools/alpha/vote/", {"value": "ship"}).status_code == 429


def test_sixty_cookieless_votes_from_one_address_move_the_tally_by_ten(tools, settings):
    settings.SHIPWITH_VOTES_NEW_VOTERS_PER_IP = "10"
    responses = [Client().post("/tools/alpha/vote/", {"value": "skip"}, **JSON) for _ in range(60)]
    assert [r.status_code for r in responses] == [200] * 10 + [429] * 50
    assert int(responses[-1]["Retry-After"]) > 0
    assert "new voters" in responses[-1].json()["error"]
    assert ToolTally.objects.get(tool=tools[0]).skips == 10 and Voter.objects.count() == 10
    # Another address, and readers who already voted, are not held back.
    assert (
        Client(REMOTE_ADDR="10.0.0.9").post("/tools/alpha/vote/", {"value": "skip"}).status_code
        == 302
    )
    voter = Client()
    voter.cookies[COOKIE] = responses[0].cookies[COOKIE].value
    assert voter.post("/tools/beta/vote/", {"value": "ship"}).status_code == 302
    # Signed-in readers are accounts, not minted identities.
    user = get_user_model().objects.create_user("reader", password="pw")
    member = Client()
    member.force_login(user)
    assert member.post("/tools/gamma/vote/", {"value": "ship"}).status_code == 302


def test_a_long_leaderboard_comes_in_pages(client, category, settings):
    from shipwith.catalog.models import Tool
    from shipwith.votes.models import Rating, RatingFit

    fit = RatingFit.objects.create(votes=1, tools=120, rounds=0, seconds=0)
    for n in range(120):
        tool = Tool.objects.create(name=f"Tool {n:03}", slug=f"tool-{n:03}", category=category)
        Rating.objects.create(
            fit=fit,
            tool=tool,
            score=2000 - n,
            lower=1990 - n,
            upper=2010 - n,
            votes=5,
            rank=n + 1,
            category_rank=n + 1,
        )
    first = client.get("/leaderboard/").text
    assert "Tool 000" in first and "Tool 099" in first and "Tool 100" not in first
    assert "Page 1 of 2" in first
    assert "Tool 119" in client.get("/leaderboard/?page=2").text
