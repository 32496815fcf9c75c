"""A ship/skip vote costs a fixed number of statements (one on PostgreSQL) and counts the same.

The round trips are what a vote costs on PostgreSQL, so each count is asserted here: a change
that adds one shows up as a failing test, not as a slower site.
"""

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shipwith.catalog.models import Tool
from shipwith.core.models import Stamp
from shipwith.votes import services
from shipwith.votes.models import ToolTally, Vote, Voter

pytestmark = pytest.mark.django_db

# Statements per vote_cast by database: PostgreSQL's one statement; SQLite's steps in their
# transaction (a savepoint inside the test's): the charge reading the tool and the previous
# vote, write, tally, stamp (and, on a tool's very first vote, three more that create its tally
# row).
STATEMENTS = {"postgresql": 1, "sqlite": 6}


def tally(tool) -> tuple[int, int]:
    row = ToolTally.objects.filter(tool=tool).first()
    return (row.ships, row.skips) if row else (0, 0)


def stamp(tool) -> int:
    row = Stamp.objects.filter(name=f"tool:{tool.pk}").first()
    return row.value if row else 0


def cast(voter, tool, value, **where):
    """One vote, and the number of statements it ran."""
    with CaptureQueriesContext(connection) as queries:
        change = services.vote_cast(
            voter_id=voter.pk, value=value, **(where or {"tool_id": tool.pk})
        )
    return change, len(queries)


def test_every_kind_of_vote_costs_the_same_few_statements(tools):
    tool, voter = tools[0], services.voter_create()
    services.vote_cast(voter_id=services.voter_create().pk, tool_id=tool.pk, value="ship")
    expected = STATEMENTS[connection.vendor]
    steps = [("ship", None, (2, 0)), ("skip", "ship", (1, 1)), ("skip", "skip", (1, 1))]
    for value, previous, counted in steps:  # a first vote, a changed vote, the same vote again
        change, statements = cast(voter, tool, value)
        assert (change.previous, change.current, tally(tool)) == (previous, value, counted)
        assert statements <= expected, (value, previous)
    change, statements = cast(voter, tool, None)  # withdrawn
    assert (change.previous, change.current, tally(tool)) == ("skip", None, (1, 0))
    assert statements <= expected and not Vote.objects.filter(voter=voter).exists()


def test_one_statement_on_postgresql_for_every_case(tools, settings):
    if connection.vendor != "postgresql":
        pytest.skip("one statement is PostgreSQL's path")
    settings.SHIPWITH_VOTES_DAILY_CAP = 4
    tool, voter = tools[0], services.voter_create()
    for value in ["ship", "skip", "skip", None]:
        assert cast(voter, tool, value)[1] == 1
    with pytest.raises(services.DailyCapReached):  # the fifth write today
        cast(voter, tool, "ship")
    excluded = services.voter_create()
    Voter.objects.filter(pk=excluded.pk).update(excluded=True)
    assert cast(excluded, tool, "ship", slug=tool.slug)[1] == 1
    with pytest.raises(Tool.DoesNotExist):
        cast(voter, tool, "ship", slug="no-such-tool")


def test_a_changed_vote_moves_the_tally_and_the_tools_stamp(tools):
    tool, other = tools[0], tools[1]
    voter = services.voter_create()
    services.vote_cast(voter_id=voter.pk, tool_id=tool.pk, value="ship")
    before, others = stamp(tool), stamp(other)
    change = services.vote_cast(voter_id=voter.pk, slug=tool.slug, value="skip")
    assert (change.tool_id, change.tally) == (tool.pk, (0, 1))
    assert stamp(tool) > before and stamp(other) == others  # only this tool's pages change
    again = stamp(tool)
    services.vote_cast(voter_id=voter.pk, tool_id=tool.pk, value="skip")  # nothing moves
    assert stamp(tool) == again


def test_an_excluded_voters_vote_is_kept_but_counts_nowhere(tools):
    tool = tools[0]
    counted, excluded = services.voter_create(), services.voter_create()
    services.vote_cast(voter_id=counted.pk, tool_id=tool.pk, value="ship")
    editor = get_user_model().objects.create_user("editor")
    services.voter_exclude(voter_id=excluded.pk, editor=editor, reason="a script")
    before = stamp(tool)
    change = services.vote_cast(voter_id=excluded.pk, tool_id=tool.pk, value="skip")
    assert change.current == "skip" and Vote.objects.filter(voter=excluded).exists()
    assert tally(tool) == (1, 0) and stamp(tool) == before
    services.vote_cast(voter_id=excluded.pk, tool_id=tool.pk, value=None)
    assert tally(tool) == (1, 0) and not Vote.objects.filter(voter=excluded).exists()


def test_a_capped_voter_changes_nothing_not_even_the_count(tools, settings):
    settings.SHIPWITH_VOTES_DAILY_CAP = 1
    voter = services.voter_create()
    services.vote_cast(voter_id=voter.pk, tool_id=tools[0].pk, value="ship")
    before = (stamp(tools[1]), Voter.objects.get(pk=voter.pk).day_count)
    with pytest.raises(services.DailyCapReached):
        services.vote_cast(voter_id=voter.pk, tool_id=tools[1].pk, value="ship")
    assert (stamp(tools[1]), Voter.objects.get(pk=voter.pk).day_count) == before
    assert tally(tools[1]) == (0, 0) and not Vote.objects.filter(tool=tools[1]).exists()


def test_a_vote_on_a_tool_that_does_not_exist_charges_nothing(tools):
    voter = services.voter_create()
    with pytest.raises(Tool.DoesNotExist):
        services.vote_cast(voter_id=voter.pk, slug="no-such-tool", value="ship")
    assert Voter.objects.get(pk=voter.pk).day_count == 0
    with pytest.raises(Voter.DoesNotExist):
        services.vote_cast(voter_id=voter.pk + 1000, tool_id=tools[0].pk, value="ship")


def test_a_form_vote_by_a_known_reader_is_one_query_on_postgresql(tools, settings):
    if connection.vendor != "postgresql":
        pytest.skip("one statement is PostgreSQL's path")
    # Daily windows claimed in blocks: after the first vote the limits need no query.
    settings.SHIPWITH_VOTES_RATE_IP = settings.SHIPWITH_VOTES_RATE_VOTER = "100000/d"
    client = Client(HTTP_SEC_FETCH_SITE="same-origin")
    client.post("/tools/alpha/vote/", {"value": "ship"})  # mints the voter
    client.post("/tools/alpha/vote/", {"value": "skip"})  # claims the voter's block
    for value, accept in [("skip", "text/html"), ("ship", "application/json")]:
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/tools/beta/vote/", {"value": value}, HTTP_ACCEPT=accept)
        assert response.status_code in (200, 302)
        assert len(queries) == 1, [query["sql"][:80] for query in queries]
    assert response.json()["current"] == "ship" and tally(tools[1]) == (1, 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("first", "second", "counted"), [("ship", "skip", (0, 1)), ("ship", None, (0, 0))]
)
def test_a_vote_racing_the_same_voters_last_one_counts_after_it(tools, first, second, counted):
    """The second vote begins while the first holds the voter's row: it waits, then must see it.

    Its one statement began before the first vote committed, so it cannot; it says so, and
    the vote is taken again step by step, after the first.
    """
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    tool, voter = tools[0], services.voter_create()
    holding, results = threading.Event(), {}

    def first_vote():
        try:
            with transaction.atomic():
                services.vote_cast(voter_id=voter.pk, tool_id=tool.pk, value=first)
                holding.set()
                time.sleep(0.5)  # the second vote starts meanwhile and waits for this one
        finally:
            connections.close_all()

    def second_vote():
        holding.wait(5)
        started = time.monotonic()
        try:
            with CaptureQueriesContext(connections["default"]) as queries:
                results["change"] = services.vote_cast(
                    voter_id=voter.pk, tool_id=tool.pk, value=second
                )
            results["waited"] = time.monotonic() - started
            results["statements"] = len(queries)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first_vote), threading.Thread(target=second_vote)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    change = results["change"]
    assert results["waited"] > 0.2  # it really ran into the first vote's lock
    assert results["statements"] > 1  # and was taken again step by step
    assert (change.previous, change.current) == (first, second)
    assert tally(tool) == counted
    assert list(Vote.objects.values_list("value", flat=True)) == ([second] if second else [])
    assert Voter.objects.get(pk=voter.pk).day_count == 2


def test_a_voter_cookie_checked_once_still_expires(tool, monkeypatch):
    from shipwith.votes import identity

    client = Client(HTTP_SEC_FETCH_SITE="same-origin")
    client.post("/tools/alpha/vote/", {"value": "ship"})
    assert client.post("/tools/alpha/vote/", {"value": "skip"}).status_code == 302  # checked
    later = time.time() + identity.MAX_AGE + 60
    monkeypatch.setattr(identity.time, "time", lambda: later)
    response = client.post("/tools/alpha/vote/", {"value": "ship"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "cookie" in response.json()["error"]
    assert tally(tool) == (0, 1)
