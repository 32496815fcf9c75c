"""Rows the shared helpers keep: rate-limit counters (shipwith.core.limits) and page-freshness
stamps (shipwith.core.freshness)."""

from django.db import models


class RateWindow(models.Model):
    """The hits counted on one rate-limit key in one fixed window of time."""

    key = models.CharField(max_length=255, primary_key=True, help_text="`<key>@<window number>`")
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.BigIntegerField(db_index=True, help_text="Unix time the window ends.")

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"


class Stamp(models.Model):
    """When what some pages show last changed: one row per tool, one for the lists, one for the
    site. A table, not a cache: a stamp that is evicted would make a stale page look fresh."""

    name = models.CharField(
        max_length=60, primary_key=True, help_text="`tool:<id>`, `lists`, `site`"
    )
    value = models.BigIntegerField(help_text="Nanoseconds since the epoch; only ever grows.")

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


class WorkerBeat(models.Model):
    """A task worker's last sign of life (shipwith.core.workers): tasks of a worker that stopped
    beating go back to the queue."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    beat_at = models.DateTimeField(help_text="The database's time of the worker's last beat.")

    def __str__(self) -> str:
        return f"{self.worker_id}: {self.beat_at:%Y-%m-%d %H:%M:%S}"
