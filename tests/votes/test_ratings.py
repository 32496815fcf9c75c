"""The rating maths against answers known by hand and by a direct maximum-likelihood fit."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import log_expit

from shipwith.votes.ratings import (
    ELO_SCALE,
    pairs_from_votes,
    pairs_resample,
    ranks_separated,
    ratings_fit,
    strengths_fit,
)


def test_two_tools_three_wins_to_one_gives_odds_of_three():
    # A beats B 3 times, B beats A once: the MLE has P(A beats B) = 3/4, so s_A - s_B = ln 3.
    pairs = pairs_from_votes([0, 0, 0, 1], [1, 1, 1, 0], [1, 1, 1, 1], n_tools=2)
    s = strengths_fit(pairs, prior=0)
    assert s[0] - s[1] == pytest.approx(math.log(3), abs=1e-6)
    assert (s[0] - s[1]) * ELO_SCALE == pytest.approx(190.85, abs=0.01)


def test_neither_counts_as_half_a_win_for_each():
    # One win for A and two "neither": A scores 2 of 3, so P(A beats B) = 2/3 and odds are 2.
    pairs = pairs_from_votes([0, 0, 0], [1, 1, 1], [1, 0.5, 0.5], n_tools=2)
    s = strengths_fit(pairs, prior=0)
    assert s[0] - s[1] == pytest.approx(math.log(2), abs=1e-6)


def test_votes_are_summed_whatever_order_a_pair_is_given_in():
    pairs = pairs_from_votes([0, 1, 1], [1, 0, 0], [1.0, 0.0, 0.5], n_tools=2)
    assert pairs.i.tolist() == [0] and pairs.j.tolist() == [1]
    assert pairs.i_wins.tolist() == [2] and pairs.j_wins.tolist() == [0]
    assert pairs.ties.tolist() == [1]


def direct_mle(i, j, outcome, n_tools, prior):
    """Maximise the same likelihood with a general-purpose optimiser."""
    i, j, outcome = map(np.asarray, (i, j, outcome))

    def negative_log_likelihood(s):
        d = s[i] - s[j]
        ll = np.sum(outcome * log_expit(d) + (1 - outcome) * log_expit(-d))
        ll += prior * np.sum(log_expit(s) + log_expit(-s))
        return -ll

    fit = minimize(
        negative_log_likelihood, np.zeros(n_tools), method="BFGS", options={"gtol": 1e-9}
    )
    return fit.x


@pytest.mark.parametrize("prior", [0.0, 1.0])
def test_matches_a_direct_maximum_likelihood_fit(prior):
    rng = np.random.default_rng(7)
    n_tools, n_votes = 8, 400
    truth = rng.normal(0, 1, n_tools)
    i = rng.integers(0, n_tools, n_votes)
    j = (i + rng.integers(1, n_tools, n_votes)) % n_tools
    p = 1 / (1 + np.exp(-(truth[i] - truth[j])))
    u = rng.random(n_votes)
    outcome = np.where(u < 0.1, 0.5, (u < 0.1 + 0.9 * p).astype(float))
    ours = strengths_fit(pairs_from_votes(i, j, outcome, n_tools), prior=prior)
    reference = direct_mle(i, j, outcome, n_tools, prior)
    if prior == 0:  # only differences are identified
        reference -= reference.mean()
    assert ours == pytest.approx(reference, abs=1e-4)


def test_prior_keeps_an_unbeaten_tool_finite_and_ahead():
    pairs = pairs_from_votes([0] * 5 + [1] * 5, [1] * 5 + [2] * 5, [1.0] * 10, n_tools=3)
    s = strengths_fit(pairs, prior=1.0)
    assert np.all(np.isfinite(s))
    assert s[0] > s[1] > s[2]


def test_resampling_keeps_the_number_of_votes_and_the_pairs():
    pairs = pairs_from_votes([0, 0, 1, 2], [1, 2, 2, 0], [1.0, 0.5, 0.0, 1.0], n_tools=3)
    again = pairs_resample(pairs, np.random.default_rng(1))
    assert again.n_votes == pairs.n_votes
    assert again.i.tolist() == pairs.i.tolist() and again.j.tolist() == pairs.j.tolist()


def test_intervals_contain_the_estimate_and_narrow_with_more_votes():
    rng = np.random.default_rng(3)

    def widths(n_votes):
        i = rng.integers(0, 4, n_votes)
        j = (i + rng.integers(1, 4, n_votes)) % 4
        outcome = (rng.random(n_votes) < 1 / (1 + np.exp(-(j - i) * 0.5))).astype(float)
        result = ratings_fit(pairs_from_votes(i, j, outcome, 4), rounds=60, seed=1)
        assert np.all(result.lower <= result.strength + 1e-9)
        assert np.all(result.strength <= result.upper + 1e-9)
        return result.upper - result.lower

    assert np.all(widths(4000) < widths(100))


def test_ranks_only_separate_tools_whose_intervals_do_not_overlap():
    lower = np.array([10.0, 8.0, 1.0, 0.5])
    upper = np.array([12.0, 11.0, 3.0, 9.0])
    # Tools 0 and 1 overlap: both first. Tool 3 overlaps tools 1 and 2 but not tool 0.
    assert ranks_separated(lower, upper).tolist() == [1, 1, 3, 2]
