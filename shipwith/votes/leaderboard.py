"""The leaderboard's refit: Bradley-Terry ratings (ratings.py) fitted on every counted pair
vote and stored for the page. Run by the worker (tasks.ratings_refit), never in a request."""

import time

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from shipwith.catalog.models import Tool
from shipwith.core.freshness import tools_touch
from shipwith.votes import ratings
from shipwith.votes.models import PairVote, Rating, RatingFit

# Set while a refit is queued: the votes that follow ride on it (tasks.ratings_refit_enqueue).
REFIT_PENDING = "votes:refit-pending"


def ratings_refit(*, rounds: int | None = None) -> RatingFit:
    """Fit Bradley-Terry ratings on every counted pair vote and store them for the leaderboard."""
    cache.delete(REFIT_PENDING)  # votes from now on queue another refit
    started = time.perf_counter()
    rounds = settings.SHIPWITH_VOTES_BOOTSTRAP_ROUNDS if rounds is None else rounds
    counted = PairVote.objects.filter(voter__excluded=False)
    rows = list(counted.values_list("tool_a_id", "tool_b_id", "choice"))
    tool_ids = sorted({a for a, _, _ in rows} | {b for _, b, _ in rows})
    index = {tool_id: n for n, tool_id in enumerate(tool_ids)}
    outcome = {"a": 1.0, "b": 0.0, "neither": 0.5}
    result = None
    if rows:
        pairs = ratings.pairs_from_votes(
            [index[a] for a, _, _ in rows],
            [index[b] for _, b, _ in rows],
            [outcome[c] for _, _, c in rows],
            n_tools=len(tool_ids),
        )
        result = ratings.ratings_fit(pairs, rounds=rounds)
    categories = dict(Tool.objects.filter(pk__in=tool_ids).values_list("pk", "category_id"))
    with transaction.atomic():
        fit = RatingFit.objects.create(
            votes=len(rows), tools=len(tool_ids), rounds=rounds, seconds=0.0
        )
        if result is not None:
            Rating.objects.bulk_create(_ratings_rows(fit, tool_ids, categories, result))
        RatingFit.objects.filter(pk=fit.pk).update(seconds=time.perf_counter() - started)
        RatingFit.objects.exclude(pk=fit.pk).delete()
    # Ratings show on the leaderboard only, which is not cached: a site-wide stamp is enough.
    transaction.on_commit(tools_touch)
    fit.refresh_from_db()
    return fit


def _ratings_rows(fit, tool_ids, categories, result: ratings.Ratings):
    score, lower, upper = result.score, result.score_lower, result.score_upper
    ranks = ratings.ranks_separated(lower, upper)
    category_ranks = np.zeros(len(tool_ids), dtype=int)
    category_of = np.array([categories.get(tool_id, 0) for tool_id in tool_ids])
    for category in set(category_of.tolist()):
        members = np.flatnonzero(category_of == category)
        category_ranks[members] = ratings.ranks_separated(lower[members], upper[members])
    for n, tool_id in enumerate(tool_ids):
        yield Rating(
            fit=fit,
            tool_id=tool_id,
            score=float(score[n]),
            lower=float(lower[n]),
            upper=float(upper[n]),
            votes=int(result.games[n]),
            rank=int(ranks[n]),
            category_rank=int(category_ranks[n]),
        )
