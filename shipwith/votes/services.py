"""Writes: casting and withdrawing votes, excluding voters (the leaderboard's refit, which
they queue, is leaderboard.py).

Every vote write first updates the voter's row (the daily cap): on PostgreSQL that row lock
serialises one voter's concurrent requests, on SQLite the IMMEDIATE transaction serialises all
writers, so the read of the previous vote is never stale and the tally deltas are exact. A
ship/skip vote on PostgreSQL is one statement (statements.py says why it is exact).
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.core.freshness import tools_touch
from shipwith.votes import statements
from shipwith.votes.models import (
    PairChoice,
    PairTally,
    PairVote,
    ToolTally,
    Vote,
    Voter,
    VoterExclusion,
)
from shipwith.votes.tasks import ratings_refit_enqueue
from shipwith.votes.writer import sqlite_writer


class DailyCapReached(Exception):
    """The voter has written as many votes today as `SHIPWITH_VOTES_DAILY_CAP` allows."""


def voter_create(*, user=None) -> Voter:
    """Create a voter (for an account, or an anonymous reader when `user` is None)."""
    if user is None:
        return Voter.objects.create()
    voter, _ = Voter.objects.get_or_create(user=user)
    return voter


def _voter_charge(voter_id: int) -> bool:
    """Count one vote write against the voter's day; return whether the voter is excluded."""
    excluded = statements.voter_charge(
        voter_id, timezone.localdate(), settings.SHIPWITH_VOTES_DAILY_CAP
    )
    if excluded is None:
        if not Voter.objects.filter(pk=voter_id).exists():
            raise Voter.DoesNotExist(f"no voter #{voter_id}")
        raise DailyCapReached
    return excluded


def _tally_add(tool_id: int, ships: int, skips: int) -> tuple[int, int] | None:
    """Add to the tool's tally; return its new (ships, skips), or None when nothing moved."""
    if not (ships or skips):
        return None
    if tally := statements.tally_add(tool_id, ships, skips):
        return tally
    try:
        with transaction.atomic():  # a savepoint: another voter may create the row first
            ToolTally.objects.create(tool_id=tool_id, ships=ships, skips=skips)
        return ships, skips
    except IntegrityError:
        return statements.tally_add(tool_id, ships, skips)


def _deltas(value: str | None) -> tuple[int, int]:
    return (value == "ship", value == "skip")


@dataclass
class VoteChange:
    previous: str | None
    current: str | None
    tally: tuple[int, int] | None = None  # the tool's (ships, skips) after it, when known
    tool_id: int | None = None

    @property
    def changed(self) -> bool:
        return self.previous != self.current


def vote_cast(
    *,
    voter_id: int,
    value: str | None,
    tool_id: int | None = None,
    slug: str | None = None,
) -> VoteChange:
    """Record the voter's ship/skip on a tool, by id or slug (None withdraws it); count it.

    Raises Tool.DoesNotExist (nothing written), Voter.DoesNotExist or DailyCapReached.
    """
    if value not in ("ship", "skip", None):
        raise ValueError(f"not a vote: {value!r}")
    if (tool_id is None) == (slug is None):
        raise ValueError("give a tool's id or its slug")
    if connection.vendor == "postgresql":
        applied = statements.vote_apply(
            voter_id,
            slug if tool_id is None else tool_id,
            value,
            timezone.localdate(),
            settings.SHIPWITH_VOTES_DAILY_CAP,
        )
        if applied.tool_id is None:
            raise Tool.DoesNotExist(f"no tool {slug or tool_id}")
        if not applied.voter_found:
            raise Voter.DoesNotExist(f"no voter #{voter_id}")
        if applied.calm:  # else another vote of this voter went in meanwhile: step by step
            if applied.excluded is None:
                raise DailyCapReached
            return VoteChange(applied.previous, value, applied.tally, applied.tool_id)
        tool_id = applied.tool_id
    return _vote_cast_steps(voter_id, slug if tool_id is None else tool_id, value)


def _voter_charge_reading(voter_id: int, tool: int | str) -> tuple[bool, int, str | None]:
    """Charge the voter and read the tool's id and the voter's vote on it (one statement on
    SQLite); return (excluded, tool id, previous value)."""
    if connection.vendor != "sqlite":  # PostgreSQL's race path: see voter_charge_reading
        tool_id = tool if isinstance(tool, int) else statements.tool_id(tool)
        if tool_id is None:
            raise Tool.DoesNotExist(f"no tool {tool}")
        excluded = _voter_charge(voter_id)
        return excluded, tool_id, statements.vote_previous(voter_id, tool_id)
    charged = statements.voter_charge_reading(
        voter_id, tool, timezone.localdate(), settings.SHIPWITH_VOTES_DAILY_CAP
    )
    if charged is None:  # over the cap, or no such voter: say which, tool first as before
        if isinstance(tool, str) and statements.tool_id(tool) is None:
            raise Tool.DoesNotExist(f"no tool {tool}")
        if not Voter.objects.filter(pk=voter_id).exists():
            raise Voter.DoesNotExist(f"no voter #{voter_id}")
        raise DailyCapReached
    excluded, tool_id, previous = charged
    if tool_id is None:
        raise Tool.DoesNotExist(f"no tool {tool}")  # the transaction takes the charge back
    return excluded, tool_id, previous


def _vote_cast_steps(voter_id: int, tool: int | str, value: str | None) -> VoteChange:
    """The vote as statements of their own in one transaction (SQLite, or a race on PostgreSQL)."""
    with sqlite_writer(), transaction.atomic():
        excluded, tool_id, previous = _voter_charge_reading(voter_id, tool)
        if previous == value:
            return VoteChange(previous, value, tool_id=tool_id)
        statements.vote_write(voter_id, tool_id, previous, value)
        if excluded:
            return VoteChange(previous, value, tool_id=tool_id)
        (new_ship, new_skip), (old_ship, old_skip) = _deltas(value), _deltas(previous)
        tally = _tally_add(tool_id, new_ship - old_ship, new_skip - old_skip)
        tools_touch(tool_id, lists=False)  # last: the tool's pages change with this commit
    return VoteChange(previous, value, tally, tool_id)


def _pair_tally_add(tool_a_id: int, tool_b_id: int, choice: str | None, delta: int) -> None:
    if choice is None:
        return
    changes = {choice: F(choice) + delta}
    pair = {"tool_a_id": tool_a_id, "tool_b_id": tool_b_id}
    if PairTally.objects.filter(**pair).update(**changes):
        return
    try:
        with transaction.atomic():
            PairTally.objects.create(**pair, **{choice: delta})
    except IntegrityError:
        PairTally.objects.filter(**pair).update(**changes)


def pair_vote_cast(
    *, voter_id: int, tool_a_id: int, tool_b_id: int, choice: str | None
) -> VoteChange:
    """Record "which would you ship with?" for a canonical pair (None withdraws it)."""
    if choice not in (*PairChoice.values, None):
        raise ValueError(f"not a choice: {choice!r}")
    if tool_a_id == tool_b_id:
        raise ValueError("a pair needs two different tools")
    pair = {"voter_id": voter_id, "tool_a_id": tool_a_id, "tool_b_id": tool_b_id}
    with sqlite_writer(), transaction.atomic():
        excluded = _voter_charge(voter_id)
        previous = PairVote.objects.filter(**pair).values_list("choice", flat=True).first()
        if previous == choice:
            return VoteChange(previous, choice)
        if choice is None:
            PairVote.objects.filter(**pair).delete()
        elif previous is None:
            PairVote.objects.create(**pair, choice=choice)
        else:
            PairVote.objects.filter(**pair).update(choice=choice, updated_at=timezone.now())
        if not excluded:
            _pair_tally_add(tool_a_id, tool_b_id, previous, -1)
            _pair_tally_add(tool_a_id, tool_b_id, choice, +1)
    if not excluded:  # after the writer's turn, as in vote_cast
        transaction.on_commit(lambda: tools_touch(tool_a_id, tool_b_id, lists=False))
        ratings_refit_enqueue()
    return VoteChange(previous, choice)


def tallies_rebuild(*, tool_ids: list[int] | None = None) -> None:
    """Recompute tallies from the votes of voters who are not excluded."""
    counted = Vote.objects.filter(voter__excluded=False)
    pairs = PairVote.objects.filter(voter__excluded=False)
    with transaction.atomic():
        tools = ToolTally.objects.all()
        pair_tallies = PairTally.objects.all()
        if tool_ids is not None:
            counted = counted.filter(tool_id__in=tool_ids)
            pairs = pairs.filter(Q(tool_a_id__in=tool_ids) | Q(tool_b_id__in=tool_ids))
            tools = tools.filter(tool_id__in=tool_ids)
            pair_tallies = pair_tallies.filter(
                Q(tool_a_id__in=tool_ids) | Q(tool_b_id__in=tool_ids)
            )
        tools.delete()
        pair_tallies.delete()
        rows = counted.values("tool_id").annotate(
            ships=Count("pk", filter=Q(value="ship")), skips=Count("pk", filter=Q(value="skip"))
        )
        ToolTally.objects.bulk_create(ToolTally(**row) for row in rows)
        pair_rows = pairs.values("tool_a_id", "tool_b_id").annotate(
            a=Count("pk", filter=Q(choice="a")),
            b=Count("pk", filter=Q(choice="b")),
            neither=Count("pk", filter=Q(choice="neither")),
        )
        PairTally.objects.bulk_create(PairTally(**row) for row in pair_rows)


def voter_exclude(*, voter_id: int, editor, reason: str, excluded: bool = True) -> VoterExclusion:
    """Exclude a voter's votes from every figure (or restore them), and log who, when, why."""
    if not reason.strip():
        raise ValueError("say why")
    with transaction.atomic():
        Voter.objects.filter(pk=voter_id).update(excluded=excluded)
        entry = VoterExclusion.objects.create(
            voter_id=voter_id, excluded=excluded, editor=editor, reason=reason.strip()
        )
        tool_ids = set(Vote.objects.filter(voter_id=voter_id).values_list("tool_id", flat=True))
        pair_ids = PairVote.objects.filter(voter_id=voter_id).values_list("tool_a_id", "tool_b_id")
        had_pairs = False
        for a, b in pair_ids:
            tool_ids.update((a, b))
            had_pairs = True
        if tool_ids:
            tallies_rebuild(tool_ids=sorted(tool_ids))
            transaction.on_commit(lambda: tools_touch(*tool_ids, lists=False))
        if had_pairs:
            ratings_refit_enqueue()
    return entry
