"""Bradley-Terry ratings from head-to-head votes, with bootstrap intervals (numpy/scipy only).

Model: P(i beats j) = σ(s_i − s_j). Choices we made, and why:

* "Neither" counts as half a win for each side: the reader saw both and preferred neither, which
  is evidence that the two are close — the usual treatment of ties in paired comparisons.
* A weak prior: every tool also plays `prior` virtual wins and `prior` virtual losses against a
  fixed reference of strength 0 (the "average tool"). It keeps the fit finite for a tool that
  has only won (the pure MLE runs to infinity), ties together tools whose vote graphs are not
  connected, and shrinks tools with few votes towards average. With `prior=0` the fit is the
  plain maximum-likelihood estimate (which then needs a connected graph with no perfect record).
* Fitting: Newton's method on the concave log-likelihood, each step solved by conjugate
  gradients with Hessian-vector products over the sparse pair table (`np.bincount`), so the cost
  per step is linear in the number of distinct pairs. Bootstrap rounds resample the votes
  (a multinomial draw over pair × outcome cells, the same as resampling votes with replacement)
  and start from the full-data fit, so each takes a few Newton steps.
* Ranks only separate tools whose 95% intervals do not overlap: a tool's rank is 1 + the number
  of tools whose lower bound is above its upper bound.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import LinearOperator, cg
from scipy.special import expit

ELO_SCALE = 400 / math.log(10)  # 400 points = odds of 10 to 1, as readers know from chess
ELO_BASE = 1000.0


@dataclass
class Pairs:
    """Votes summed by pair (i < j): outright wins of each side, and ties."""

    i: np.ndarray
    j: np.ndarray
    i_wins: np.ndarray
    j_wins: np.ndarray
    ties: np.ndarray
    n_tools: int
    # The sparse matrix layout, computed once and shared by bootstrap resamples.
    _layout: tuple | None = field(default=None, repr=False)
    # Each vote's cell (pair × outcome), the population the bootstrap resamples.
    _cells: np.ndarray | None = field(default=None, repr=False)

    @property
    def wins(self) -> np.ndarray:
        """i's score against j: outright wins plus half of the ties."""
        return self.i_wins + 0.5 * self.ties

    @property
    def games(self) -> np.ndarray:
        return self.i_wins + self.j_wins + self.ties

    @property
    def n_votes(self) -> int:
        return int(self.games.sum())

    def vote_cells(self) -> np.ndarray:
        """One entry per vote: its pair index, + m if j won, + 2m if a tie."""
        if self._cells is None:
            counts = np.concatenate([self.i_wins, self.j_wins, self.ties]).astype(np.int64)
            self._cells = np.repeat(np.arange(len(counts)), counts)
        return self._cells

    def adjacency(self, weights: np.ndarray) -> csr_matrix:
        """The symmetric tool × tool matrix with `weights[p]` at (i_p, j_p) and (j_p, i_p)."""
        if self._layout is None:
            rows = np.concatenate([self.i, self.j])
            cols = np.concatenate([self.j, self.i])
            order = np.lexsort((cols, rows))
            indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=self.n_tools))])
            pair_of = np.concatenate([np.arange(len(self.i))] * 2)[order]
            self._layout = (cols[order].astype(np.int32), indptr.astype(np.int32), pair_of)
        indices, indptr, pair_of = self._layout
        k = self.n_tools
        return csr_matrix((np.take(weights, pair_of), indices, indptr), shape=(k, k))


def pairs_from_votes(i, j, outcome, n_tools: int) -> Pairs:
    """Sum votes by unordered pair; `outcome` is 1 when i won, 0 when j won, 0.5 for neither."""
    i, j, outcome = (np.asarray(x) for x in (i, j, outcome))
    swap = i > j
    lo, hi = np.where(swap, j, i), np.where(swap, i, j)
    score = np.where(swap, 1.0 - outcome, outcome).astype(float)
    keys, inverse = np.unique(lo.astype(np.int64) * n_tools + hi, return_inverse=True)
    m = len(keys)
    i_wins = np.bincount(inverse, weights=score == 1.0, minlength=m)
    j_wins = np.bincount(inverse, weights=score == 0.0, minlength=m)
    ties = np.bincount(inverse, weights=score == 0.5, minlength=m)
    return Pairs(keys // n_tools, keys % n_tools, i_wins, j_wins, ties, n_tools)


def _newton(pairs: Pairs, prior: float, start: np.ndarray, tol: float, cg_rtol: float):
    """Maximise the log-likelihood from `start`; return the strengths."""
    i, j, w, n, k = pairs.i, pairs.j, pairs.wins, pairs.games, pairs.n_tools
    # Every tool's total score (wins plus half of ties), plus its virtual prior wins.
    score = np.bincount(i, weights=w, minlength=k) + np.bincount(j, weights=n - w, minlength=k)
    score += prior
    s = start.copy()
    for _ in range(100):
        p = expit(np.take(s, i) - np.take(s, j))  # P(i beats j)
        p0 = expit(s)  # P(tool beats the reference)
        np_ = n * p
        expected = np.bincount(i, weights=np_, minlength=k)
        expected += np.bincount(j, weights=n - np_, minlength=k)
        grad = score - expected - 2 * prior * p0
        if np.abs(grad).max() < tol:
            break
        c = np_ * (1 - p)
        # A tool with no votes and no prior has a zero row: keep the system solvable.
        diag = np.bincount(i, weights=c, minlength=k) + np.bincount(j, weights=c, minlength=k)
        diag += 2 * prior * p0 * (1 - p0) + 1e-9
        # The negative Hessian: a weighted graph Laplacian plus the prior's diagonal.
        adjacency = pairs.adjacency(c)
        operator = LinearOperator(
            (k, k), matvec=lambda v, a=adjacency, d=diag: d * v - a @ v, dtype=float
        )
        step, _ = cg(operator, grad, rtol=cg_rtol, maxiter=200, M=_jacobi(diag))
        s += step
    if prior == 0:
        s -= s.mean()  # without the reference, only differences are identified
    return s


def _jacobi(diag: np.ndarray) -> LinearOperator:
    inverse = 1.0 / diag
    return LinearOperator((len(diag), len(diag)), matvec=lambda v: inverse * v, dtype=float)


def strengths_fit(
    pairs: Pairs,
    *,
    prior: float = 1.0,
    start: np.ndarray | None = None,
    tol: float = 1e-8,
    cg_rtol: float = 1e-6,
) -> np.ndarray:
    """Return each tool's log-strength (0 is the average tool) fitted on `pairs`.

    `tol` bounds the gradient, in votes: far below what any figure shows.
    """
    start = np.zeros(pairs.n_tools) if start is None else start
    return _newton(pairs, prior, start, tol=tol, cg_rtol=cg_rtol)


def pairs_resample(pairs: Pairs, rng: np.random.Generator) -> Pairs:
    """Resample the votes with replacement (the plain bootstrap)."""
    cells = pairs.vote_cells()
    drawn = cells[rng.integers(0, len(cells), len(cells))]
    counts = np.bincount(drawn, minlength=3 * len(pairs.i)).astype(float)
    i_wins, j_wins, ties = np.split(counts, 3)
    return Pairs(pairs.i, pairs.j, i_wins, j_wins, ties, pairs.n_tools, pairs._layout, pairs._cells)


@dataclass
class Ratings:
    strength: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    games: np.ndarray

    @property
    def score(self) -> np.ndarray:
        return ELO_BASE + ELO_SCALE * self.strength

    @property
    def score_lower(self) -> np.ndarray:
        return ELO_BASE + ELO_SCALE * self.lower

    @property
    def score_upper(self) -> np.ndarray:
        return ELO_BASE + ELO_SCALE * self.upper


def ratings_fit(pairs: Pairs, *, rounds: int = 100, prior: float = 1.0, seed: int = 0) -> Ratings:
    """Fit strengths and their 95% bootstrap intervals."""
    strength = strengths_fit(pairs, prior=prior)
    rng = np.random.default_rng(seed)
    samples = np.empty((rounds, pairs.n_tools))
    for r in range(rounds):
        resample = pairs_resample(pairs, rng)
        # Looser tolerances than the point fit: far below the width of any interval.
        samples[r] = strengths_fit(resample, prior=prior, start=strength, tol=1e-2, cg_rtol=1e-3)
    if rounds:
        lower, upper = np.percentile(samples, [2.5, 97.5], axis=0)
    else:
        lower = upper = strength
    games = np.bincount(pairs.i, weights=pairs.games, minlength=pairs.n_tools)
    games += np.bincount(pairs.j, weights=pairs.games, minlength=pairs.n_tools)
    return Ratings(strength, lower, upper, games)


def ranks_separated(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Rank = 1 + the number of tools whose interval lies wholly above this one's."""
    sorted_lower = np.sort(lower)
    above = len(lower) - np.searchsorted(sorted_lower, upper, side="right")
    return 1 + above
