"""Bradley-Terry fit and bootstrap: vectorised (ours) vs a naive per-vote implementation.

Goals: a fit over 1,000,000 head-to-head votes among 10,000 tools in ≤ 5 s, and 100 bootstrap
rounds in ≤ 60 s. The naive baseline (Zermelo/MM iterations looping over votes in Python) runs
on a smaller set, where both are timed and their answers compared.

    .venv/bin/python bench/votes_rating.py [--votes 1000000] [--tools 10000] [--rounds 100]
"""

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shipwith.votes.ratings import pairs_from_votes, ratings_fit, strengths_fit  # noqa: E402


def synthetic(n_votes: int, n_tools: int, seed: int = 1):
    """Votes from known strengths; 10% of them "neither"."""
    rng = np.random.default_rng(seed)
    truth = rng.normal(0, 1, n_tools)
    i = rng.integers(0, n_tools, n_votes)
    j = (i + rng.integers(1, n_tools, n_votes)) % n_tools
    p = 1 / (1 + np.exp(-(truth[i] - truth[j])))
    u = rng.random(n_votes)
    outcome = np.where(u < 0.1, 0.5, (u < 0.1 + 0.9 * p).astype(float))
    return truth, i, j, outcome


def naive_fit(i, j, outcome, n_tools: int, prior: float = 1.0, tol: float = 1e-7):
    """Hunter's MM iterations, one Python loop over the votes per sweep (the obvious code)."""
    votes = list(zip(i.tolist(), j.tolist(), outcome.tolist(), strict=True))
    strength = [1.0] * n_tools
    sweep = 0
    while sweep < 10_000:
        sweep += 1
        wins = [prior] * n_tools
        denominator = [2 * prior / (s + 1.0) for s in strength]  # virtual games vs strength 1
        for a, b, result in votes:
            wins[a] += result
            wins[b] += 1 - result
            share = 1.0 / (strength[a] + strength[b])
            denominator[a] += share
            denominator[b] += share
        new = [w / d for w, d in zip(wins, denominator, strict=True)]
        change = max(abs(math.log(x) - math.log(y)) for x, y in zip(new, strength, strict=True))
        strength = new
        if change < tol:
            break
    return np.log(strength), sweep


def timed(function, *args, **kwargs):
    """Return the result and the wall-clock seconds (CPU seconds go to `timed.cpu`)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    timed.cpu = time.process_time() - cpu
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--tools", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--small-votes", type=int, default=10_000)
    parser.add_argument("--small-tools", type=int, default=100)
    args = parser.parse_args()

    # Baseline and ours on the same small set.
    _, i, j, outcome = synthetic(args.small_votes, args.small_tools)
    (naive, sweeps), naive_seconds = timed(naive_fit, i, j, outcome, args.small_tools)
    pairs = pairs_from_votes(i, j, outcome, args.small_tools)
    ours, ours_seconds = timed(strengths_fit, pairs)
    print(
        f"small set ({args.small_votes:,} votes, {args.small_tools} tools): naive MM "
        f"{naive_seconds:.2f} s ({sweeps} sweeps), ours {ours_seconds:.3f} s — "
        f"{naive_seconds / ours_seconds:,.0f}× faster; largest difference "
        f"{np.abs(naive - ours).max():.1e}"
    )

    truth, i, j, outcome = synthetic(args.votes, args.tools)
    pairs, aggregate_seconds = timed(pairs_from_votes, i, j, outcome, args.tools)
    strength, fit_seconds = timed(strengths_fit, pairs)
    correlation = np.corrcoef(strength, truth)[0, 1]
    fit_cpu = timed.cpu
    print(
        f"full set ({args.votes:,} votes, {args.tools:,} tools): summing pairs "
        f"{aggregate_seconds:.2f} s, fit {fit_seconds:.2f} s wall / {fit_cpu:.2f} s CPU "
        f"(goal ≤ 5 s); correlation with the true strengths {correlation:.3f}"
    )
    result, total_seconds = timed(ratings_fit, pairs, rounds=args.rounds)
    width = np.median(result.score_upper - result.score_lower)
    print(
        f"fit + {args.rounds} bootstrap rounds: {total_seconds:.1f} s wall / {timed.cpu:.1f} s CPU "
        f"(goal ≤ 60 s); median 95% interval width {width:.0f} rating points"
    )
    per_sweep = naive_seconds / sweeps / args.small_votes
    print(
        f"ratio: a naive sweep costs {per_sweep * 1e6:.2f} µs per vote; at 1M votes the same "
        f"{sweeps} sweeps would take ~{per_sweep * sweeps * args.votes:,.0f} s, "
        f"{per_sweep * sweeps * args.votes / fit_seconds:,.0f}× our fit"
    )


if __name__ == "__main__":
    main()
