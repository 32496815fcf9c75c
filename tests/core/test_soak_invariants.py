"""`make soak`'s invariant checks (bench/soak/invariants.py) catch what they are there for."""

import importlib.util
from collections import Counter
from pathlib import Path

PATH = Path(__file__).resolve().parents[2] / "bench" / "soak" / "invariants.py"
spec = importlib.util.spec_from_file_location("soak_invariants", PATH)
invariants = importlib.util.module_from_spec(spec)
spec.loader.exec_module(invariants)
Action = invariants.Action


def votes(*rows) -> list:
    return [Action(*row) for row in rows]


ACTIONS = votes(
    (1.0, 1.1, 7, "alpha", "ship", True),
    (2.0, 2.1, 7, "alpha", "skip", True),  # changed: skip is what counts
    (3.0, 3.1, 8, "alpha", "ship", True),
    (4.0, 4.1, 8, "beta", "ship", True),
    (5.0, 5.1, 8, "beta", None, True),  # withdrawn
)
STORED = {(7, "alpha"): "skip", (8, "alpha"): "ship"}
COUNTED = {"alpha": (1, 1)}


def test_exact_votes_pass():
    checks = invariants.votes_check(ACTIONS, STORED, {"alpha": (1, 1)}, COUNTED)
    assert [check.ok for check in checks] == [True, True]


def test_a_vote_counted_twice_fails():
    checks = invariants.votes_check(ACTIONS, STORED, {"alpha": (2, 1)}, COUNTED)
    assert [check.ok for check in checks] == [True, False]
    assert "1 tallies off" in checks[1].detail


def test_a_lost_or_stale_vote_fails_but_a_lost_answer_is_left_out():
    stale = {(7, "alpha"): "ship", (8, "alpha"): "ship"}  # 7's change to skip is lost
    lost = invariants.votes_check(ACTIONS, stale, {"alpha": (2, 0)}, {"alpha": (2, 0)})
    assert not lost[0].ok and "1 wrong or missing" in lost[0].detail
    unsure = ACTIONS + votes((6.0, 9.0, 8, "alpha", "skip", False))  # answer lost in a fault
    checks = invariants.votes_check(unsure, STORED, {"alpha": (1, 1)}, COUNTED)
    assert checks[0].ok and "1 left out" in checks[0].detail


def test_a_reader_mailed_twice_or_not_at_all_fails():
    planned = {"a@x.test", "b@x.test"}
    common = dict(
        planned=planned, in_doubt=set(), unsettled=0, signups=[], confirm_recipients=Counter()
    )
    ok = invariants.mail_check(digest_recipients=Counter(planned), **common)
    twice = invariants.mail_check(
        digest_recipients=Counter(["a@x.test", "a@x.test", "b@x.test"]), **common
    )
    missing = invariants.mail_check(digest_recipients=Counter(["a@x.test"]), **common)
    assert ok[0].ok and not twice[0].ok and not missing[0].ok


def test_a_task_run_twice_by_live_workers_fails():
    killed = {"w-0-0"}
    rerun = [("p.task", "SUCCESSFUL", ["w-0-0", "w-1-0"], True)]
    twice = [("p.task", "SUCCESSFUL", ["w-1-0", "w-0-1"], True)]
    assert all(check.ok for check in invariants.tasks_check(tasks=rerun, killed_workers=killed))
    assert not invariants.tasks_check(tasks=twice, killed_workers=killed)[1].ok
    left = [("p.task", "RUNNING", ["w-1-0"], True)]
    assert not invariants.tasks_check(tasks=left, killed_workers=killed)[0].ok


def test_a_5xx_outside_a_fault_window_fails():
    windows = [("restart Redis", 10.0, 20.0)]
    assert invariants.errors_check([(15.0, "page", 502)], windows).ok
    assert not invariants.errors_check([(25.0, "page", 500)], windows).ok


def test_a_vote_missing_from_the_backup_fails():
    common = dict(
        actions=ACTIONS,
        started=10.0,
        finished=11.0,
        subscribers=set(),
        restored_subscribers=set(),
        reviews={1},
        restored_reviews={1},
    )
    assert invariants.backup_check(restored_votes=STORED, **common).ok
    assert not invariants.backup_check(restored_votes={(7, "alpha"): "skip"}, **common).ok
