"""Background work of the votes: the leaderboard refit (never run inside a request), and the
helper that queues it. Only callers import this module; the work (leaderboard.py) never does."""

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from shipwith.votes import leaderboard


@task()
def ratings_refit() -> int:
    """Refit the Bradley-Terry leaderboard; return the new fit's id."""
    return leaderboard.ratings_refit().pk


def ratings_refit_enqueue() -> None:
    """Once the transaction commits, queue one refit for the votes of the next few seconds."""
    transaction.on_commit(_ratings_refit_queue)


def _ratings_refit_queue() -> None:
    # Debounced through the cache: the refit takes in every vote until it starts.
    delay = settings.SHIPWITH_VOTES_REFIT_DELAY
    if not cache.add(leaderboard.REFIT_PENDING, 1, timeout=delay + 60):
        return
    refit = ratings_refit
    if delay and refit.get_backend().supports_defer:
        refit = refit.using(run_after=timezone.now() + dt.timedelta(seconds=delay))
    refit.enqueue()
