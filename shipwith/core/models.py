"""Rows the shared helpers keep: rate-limit counters (shipwith.core.limits)."""

from django.db import models


class RateWindow(models.Model):
    """The hits counted on one rate-limit key in one fixed window of time."""

    key = models.CharField(max_length=255, primary_key=True, help_text="`<key>@<window number>`")
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.BigIntegerField(db_index=True, help_text="Unix time the window ends.")

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"
