"""Background work: the leaderboard refit (never run inside a request)."""

from django_tasks import task

from shipwith.votes import services


@task()
def ratings_refit() -> int:
    """Refit the Bradley-Terry leaderboard; return the new fit's id."""
    return services.ratings_refit().pk
