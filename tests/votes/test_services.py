"""Vote services: one vote per voter per tool, exact tallies, caps, exclusions, refits."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django_tasks_db.models import DBTaskResult

from shipwith.catalog.models import Tool
from shipwith.votes import leaderboard, services
from shipwith.votes.models import (
    PairTally,
    PairVote,
    Rating,
    RatingFit,
    ToolTally,
    Vote,
    Voter,
    VoterExclusion,
)
from shipwith.votes.selectors import community_figure, community_figures, pair_tally
from shipwith.votes.tasks import ratings_refit

pytestmark = pytest.mark.django_db


def tally(tool):
    row = ToolTally.objects.filter(tool=tool).first()
    return (row.ships, row.skips) if row else (0, 0)


def test_cast_change_and_withdraw_keep_one_row_and_the_tally_exact(tool):
    voter = services.voter_create()
    services.vote_cast(voter_id=voter.pk, tool_id=tool.pk, value="ship")
    assert tally(tool) == (1, 0)
    change = services.vote_cast(voter_id=voter.pk, tool_id=tool.pk, value="skip")
    assert (change.previous, change.current) == ("ship", "skip")
    assert Vote.objects.filter(voter=voter, tool=tool).count() == 1
    assert tally(tool) == (0, 1)
    services.vote_cast(voter_id=voter.pk, tool_id=tool.pk, value="skip")  # same again: no-op
    assert tally(tool) == (0, 1)
    services.vote_cast(voter_id=voter.pk, tool_id=tool.pk, value=None)
    assert not Vote.objects.exists() and tally(tool) == (0, 0)


def test_the_database_refuses_a_second_vote_row(tool):
    voter = services.voter_create()
    Vote.objects.create(voter=voter, tool=tool, value="ship")
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(voter=voter, tool=tool, value="skip")


def test_a_value_that_is_not_ship_or_skip_is_refused(tool):
    voter = services.voter_create()
    with pytest.raises(ValueError):
        services.vote_cast(voter_id=voter.pk, tool_id=tool.pk, value="maybe")
    assert not Vote.objects.exists()


def test_the_daily_cap_refuses_further_writes(tool, tools, settings):
    settings.SHIPWITH_VOTES_DAILY_CAP = 2
    voter = services.voter_create()
    services.vote_cast(voter_id=voter.pk, tool_id=tools[0].pk, value="ship")
    services.vote_cast(voter_id=voter.pk, tool_id=tools[1].pk, value="ship")
    with pytest.raises(services.DailyCapReached):
        services.vote_cast(voter_id=voter.pk, tool_id=tools[2].pk, value="ship")
    assert not Vote.objects.filter(tool=tools[2]).exists()
    # Tomorrow the count starts again.
    Voter.objects.filter(pk=voter.pk).update(day="2000-01-01")
    services.vote_cast(voter_id=voter.pk, tool_id=tools[2].pk, value="ship")
    assert Voter.objects.get(pk=voter.pk).day_count == 1


def test_community_figure_shows_a_share_only_from_the_minimum(tool, settings):
    settings.SHIPWITH_VOTES_MIN = 3
    voters = [services.voter_create() for _ in range(3)]
    for voter, value in zip(voters[:2], ["ship", "skip"], strict=True):
        services.vote_cast(voter_id=voter.pk, tool_id=tool.pk, value=value)
    figure = community_figures([tool])[tool.pk]
    assert figure.share is None and figure.needed == 1
    services.vote_cast(voter_id=voters[2].pk, tool_id=tool.pk, value="ship")
    figure = community_figure(Tool.objects.get(pk=tool.pk))
    assert figure.percent == 67 and (figure.ships, figure.total) == (2, 3)
    low, high = figure.interval
    assert low < 67 < high


def test_excluding_a_voter_removes_their_votes_from_figures_and_logs_it(tools):
    editor = get_user_model().objects.create_user("editor")
    honest, spammer = services.voter_create(), services.voter_create()
    services.vote_cast(voter_id=honest.pk, tool_id=tools[0].pk, value="ship")
    for tool in tools:
        services.vote_cast(voter_id=spammer.pk, tool_id=tool.pk, value="skip")
    services.pair_vote_cast(
        voter_id=spammer.pk, tool_a_id=tools[0].pk, tool_b_id=tools[1].pk, choice="b"
    )
    assert tally(tools[0]) == (1, 1)

    services.voter_exclude(voter_id=spammer.pk, editor=editor, reason="300 skips in a minute")
    assert [tally(tool) for tool in tools] == [(1, 0), (0, 0), (0, 0)]
    assert pair_tally(tools[0].pk, tools[1].pk).total == 0
    entry = VoterExclusion.objects.get()
    assert (entry.editor, entry.excluded, entry.reason) == (editor, True, "300 skips in a minute")
    assert entry.created_at is not None

    # Their later votes are stored but still not counted.
    services.vote_cast(voter_id=spammer.pk, tool_id=tools[0].pk, value="ship")
    assert tally(tools[0]) == (1, 0)

    services.voter_exclude(voter_id=spammer.pk, editor=editor, reason="false alarm", excluded=False)
    assert tally(tools[0]) == (2, 0) and tally(tools[1]) == (0, 1)
    assert VoterExclusion.objects.count() == 2


def test_an_exclusion_needs_a_reason(tool):
    voter = services.voter_create()
    with pytest.raises(ValueError):
        services.voter_exclude(voter_id=voter.pk, editor=None, reason="  ")
    assert not VoterExclusion.objects.exists()


def test_pair_votes_change_and_withdraw_with_an_exact_split(tools):
    a, b = tools[0], tools[1]
    voter = services.voter_create()
    services.pair_vote_cast(voter_id=voter.pk, tool_a_id=a.pk, tool_b_id=b.pk, choice="a")
    services.pair_vote_cast(voter_id=voter.pk, tool_a_id=a.pk, tool_b_id=b.pk, choice="neither")
    row = PairTally.objects.get()
    assert (row.a, row.b, row.neither) == (0, 0, 1)
    services.pair_vote_cast(voter_id=voter.pk, tool_a_id=a.pk, tool_b_id=b.pk, choice=None)
    row.refresh_from_db()
    assert row.total == 0 and not PairVote.objects.exists()
    with pytest.raises(ValueError):
        services.pair_vote_cast(voter_id=voter.pk, tool_a_id=a.pk, tool_b_id=b.pk, choice="c")


def test_a_pair_vote_enqueues_one_debounced_refit_on_commit(
    tools, django_capture_on_commit_callbacks
):
    voter = services.voter_create()
    with django_capture_on_commit_callbacks(execute=True):
        for choice in ["a", "b", "neither"]:
            services.pair_vote_cast(
                voter_id=voter.pk, tool_a_id=tools[0].pk, tool_b_id=tools[1].pk, choice=choice
            )
    queued = DBTaskResult.objects.filter(task_path="shipwith.votes.tasks.ratings_refit")
    assert queued.count() == 1
    assert queued.get().run_after is not None  # waits for more votes before fitting


def test_refit_stores_ratings_the_leaderboard_reads(tools, other_category):
    outsider = Tool.objects.create(name="Delta", slug="delta", category=other_category)
    a, b, c = tools
    plan = [(a, b, "a")] * 8 + [(a, b, "b")] * 2 + [(b, c, "a")] * 8 + [(a, c, "a")] * 9
    plan += [(a, outsider, "neither")] * 2
    for left, right, choice in plan:
        voter = services.voter_create()
        services.pair_vote_cast(
            voter_id=voter.pk, tool_a_id=left.pk, tool_b_id=right.pk, choice=choice
        )
    fit = leaderboard.ratings_refit(rounds=30)
    assert (fit.votes, fit.tools, fit.rounds) == (len(plan), 4, 30)
    ratings = {rating.tool: rating for rating in Rating.objects.filter(fit=fit)}
    assert ratings[a].score > ratings[b].score > ratings[c].score
    assert ratings[a].lower <= ratings[a].score <= ratings[a].upper
    assert ratings[a].votes == 8 + 2 + 9 + 2
    assert ratings[a].rank == 1 and ratings[c].rank > 1
    assert ratings[outsider].category_rank == 1  # alone in its category
    # Only the latest fit is kept.
    leaderboard.ratings_refit(rounds=5)
    assert RatingFit.objects.count() == 1


def test_the_refit_task_fits_and_returns_the_new_fit(tools):
    voter = services.voter_create()
    services.pair_vote_cast(
        voter_id=voter.pk, tool_a_id=tools[0].pk, tool_b_id=tools[1].pk, choice="a"
    )
    fit_id = ratings_refit.call()
    assert RatingFit.objects.get().pk == fit_id
    assert Rating.objects.filter(fit_id=fit_id).count() == 2
