"""What must hold after a soak, as plain functions over what was recorded and what is stored.

Each check returns a `Check`: its name, whether it held, and a line saying what was counted.
They take plain data (lists, dicts, Counters), so a test can hand them a vote counted twice or
a reader mailed twice and see the check fail (tests/core/test_soak_invariants.py).
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

Pair = tuple[int, str]  # (voter id, tool slug)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    skipped: bool = False  # not run (e.g. no backup command): shown, never a failure


@dataclass
class Action:
    """One vote request as a client saw it: sent and answered (Unix time), the vote it asked
    for (None: withdrawn), and whether the answer came back (else it may or may not be stored)."""

    sent: float
    answered: float
    voter: int | None
    slug: str
    value: str | None
    certain: bool


def votes_expected(actions: Iterable[Action], *, before: float | None = None):
    """Each (voter, slug)'s vote as the server last accepted it, and the pairs whose state is
    unknown (their last request's answer was lost, or, with `before`, a request was in flight
    at that moment); votes by voters never told their id are counted apart."""
    expected: dict[Pair, str | None] = {}
    unknown: set[Pair] = set()
    lost_first = 0
    for action in sorted(actions, key=lambda a: (a.sent, a.answered)):
        if action.voter is None:
            lost_first += 1  # a first vote whose answer (and voter cookie) was lost
            continue
        pair = (action.voter, action.slug)
        if before is not None and action.sent >= before:
            continue
        if before is not None and action.answered >= before:
            unknown.add(pair)
        elif action.certain:
            expected[pair] = action.value
            unknown.discard(pair)
        else:
            unknown.add(pair)
    return expected, unknown, lost_first


def votes_check(
    actions: list[Action],
    stored: dict[Pair, str],
    tallies: dict[str, tuple[int, int]],
    counted: dict[str, tuple[int, int]],
) -> list[Check]:
    """Every accepted vote stored once and as last accepted; every tally equal to its rows.

    `stored`: the vote rows of every voter (voter, slug) -> value; `tallies`: each tool's
    (ships, skips) as the tally rows say; `counted`: the same counted from the vote rows.
    """
    expected, unknown, lost_first = votes_expected(actions)
    voters = {voter for voter, _ in expected} | {voter for voter, _ in unknown}
    wrong = [
        pair
        for pair, value in expected.items()
        if pair not in unknown and stored.get(pair) != value
    ]
    extra = [
        pair
        for pair in stored
        if pair[0] in voters and pair not in expected and pair not in unknown
    ]
    strangers = sum(1 for voter, _ in stored if voter not in voters)
    accepted = sum(1 for action in actions if action.certain)
    first = Check(
        "every accepted vote stored, as last accepted",
        not wrong and not extra and strangers <= lost_first,
        f"{accepted} accepted requests, {len(expected)} voter-tool pairs checked, "
        f"{len(unknown)} left out (answer lost in a fault), {len(wrong)} wrong or missing, "
        f"{len(extra)} stored but never accepted, {strangers} by voters whose first answer "
        f"was lost (allowed {lost_first})"
        + (f"; e.g. {(wrong + extra)[:3]}" if wrong or extra else ""),
    )
    off = {
        slug: (tallies.get(slug, (0, 0)), counts)
        for slug, counts in counted.items()
        if tallies.get(slug, (0, 0)) != counts
    } | {
        slug: (tally, (0, 0))
        for slug, tally in tallies.items()
        if slug not in counted and tally != (0, 0)
    }
    second = Check(
        "every vote counted exactly once (tallies = vote rows)",
        not off,
        f"{len(tallies)} tallies, {sum(map(sum, counted.values()))} vote rows, "
        f"{len(off)} tallies off" + (f"; e.g. {list(off.items())[:3]}" if off else ""),
    )
    return [first, second]


def mail_check(
    *,
    planned: set[str],
    in_doubt: set[str],
    unsettled: int,
    digest_recipients: Counter,
    signups: list[tuple[str, bool]],
    confirm_recipients: Counter,
) -> list[Check]:
    """Every planned reader mailed the digest once (in doubt: at most once), nobody else; every
    accepted sign-up mailed one confirmation link."""
    twice = [address for address, n in digest_recipients.items() if n > 1]
    missing = [a for a in planned - in_doubt if digest_recipients[a] != 1]
    strangers = [address for address in digest_recipients if address not in planned]
    digest = Check(
        "every subscriber mailed the digest exactly once",
        not twice and not missing and not strangers and not unsettled,
        f"{len(planned)} deliveries planned, {sum(digest_recipients.values())} mailed, "
        f"{len(twice)} mailed twice, {len(missing)} not mailed, {len(strangers)} not planned, "
        f"{len(in_doubt)} in doubt (sender killed mid-send; never resent), "
        f"{unsettled} still unsettled",
    )
    certain = [email for email, sure in signups if sure]
    doubtful = [email for email, sure in signups if not sure]
    unconfirmed = [email for email in certain if confirm_recipients[email] != 1]
    doubled = [email for email in doubtful if confirm_recipients[email] > 1]
    confirm = Check(
        "every accepted sign-up mailed one confirmation link",
        not unconfirmed and not doubled,
        f"{len(certain)} sign-ups accepted, {len(unconfirmed)} not mailed exactly once, "
        f"{len(doubtful)} answers lost in a fault ({len(doubled)} of them mailed twice)",
    )
    return [digest, confirm]


def reviews_check(
    *, new_tools: list[str], seats_per_tool: dict[str, int], current: dict[str, Counter],
    reviews_per_seat: Counter, personas: int,
) -> Check:  # fmt: skip
    """Every new tool has one current review per persona, and no seat has two reviews."""
    incomplete = [slug for slug in new_tools if len(current.get(slug, ())) != personas]
    doubled = [slug for slug in new_tools if any(n > 1 for n in current.get(slug, {}).values())]
    seats_twice = [seat for seat, n in reviews_per_seat.items() if n > 1]
    return Check(
        "every new tool reviewed once per seat",
        bool(new_tools) and not incomplete and not doubled and not seats_twice,
        f"{len(new_tools)} tools added by ingest, {len(incomplete)} without a complete panel "
        f"{incomplete[:3] or ''}, {len(doubled)} with two current reviews from one persona, "
        f"{len(seats_twice)} seats with two reviews",
    )


def tasks_check(
    *, tasks: list[tuple[str, str, list[str], bool]], killed_workers: set[str]
) -> list[Check]:
    """No task lost (left running, or due and never taken) and none run twice, but for the
    tasks of a killed worker, which run again once.

    `tasks`: (task path, status, worker ids, due) for every task result.
    """
    running = [path for path, status, _, _ in tasks if status == "RUNNING"]
    waiting = [path for path, status, _, due in tasks if status == "READY" and due]
    twice = [
        (path, ids)
        for path, _, ids, _ in tasks
        if len(ids) > 1 and not set(ids[:-1]) <= killed_workers
    ]
    rerun = [ids for _, _, ids, _ in tasks if len(ids) > 1 and set(ids[:-1]) <= killed_workers]
    failed = Counter(path.rsplit(".", 1)[-1] for path, status, _, _ in tasks if status == "FAILED")
    statuses = Counter(status for _, status, _, _ in tasks)
    return [
        Check(
            "no task lost",
            not running and not waiting,
            f"{len(tasks)} tasks ({dict(statuses)}); {len(running)} left running, "
            f"{len(waiting)} due but never taken; failed (recorded, not lost): "
            f"{dict(failed) or 'none'}",
        ),
        Check(
            "no task run twice",
            not twice,
            f"{len(rerun)} run again after their worker was killed -9 (once each), "
            f"{len(twice)} run twice otherwise" + (f"; e.g. {twice[:2]}" if twice else ""),
        ),
    ]


def errors_check(
    problems: list[tuple[float, str, object]], windows: list[tuple[str, float, float]]
):
    """No 5xx or lost answer outside a fault window."""
    inside = Counter()
    outside = []
    for at, name, what in problems:
        window = next((w for w, start, end in windows if start <= at <= end), None)
        if window is None:
            outside.append((round(at, 1), name, what))
        else:
            inside[window] += 1
    return Check(
        "no 5xx outside a fault window",
        not outside,
        f"{len(problems)} 5xx or lost answers: "
        + (", ".join(f"{n} during {w}" for w, n in inside.items()) or "none in fault windows")
        + f"; {len(outside)} outside"
        + (f", e.g. {outside[:3]}" if outside else ""),
    )


def backup_check(
    *,
    actions: list[Action],
    started: float,
    finished: float,
    restored_votes: dict[Pair, str],
    subscribers: set[str],
    restored_subscribers: set[str],
    reviews: set[int],
    restored_reviews: set[int],
) -> Check:
    """Everything accepted before the backup started is in the restored copy: each vote as it
    stood then (pairs with a request in flight during the backup left out), every subscriber
    and review."""
    expected, unknown, _ = votes_expected(actions, before=started)
    during = {
        (a.voter, a.slug) for a in actions if a.voter is not None and a.sent <= finished
        and a.answered >= started
    }  # fmt: skip
    checked = {pair: value for pair, value in expected.items() if pair not in unknown | during}
    votes_off = [pair for pair, value in checked.items() if restored_votes.get(pair) != value]
    subscribers_missing = subscribers - restored_subscribers
    reviews_missing = reviews - restored_reviews
    return Check(
        "backup restores everything accepted before it",
        not votes_off and not subscribers_missing and not reviews_missing,
        f"backup took {finished - started:.1f} s; {len(checked)} votes checked "
        f"({len(votes_off)} off), {len(subscribers)} subscribers ({len(subscribers_missing)} "
        f"missing), {len(reviews)} reviews ({len(reviews_missing)} missing)",
    )
