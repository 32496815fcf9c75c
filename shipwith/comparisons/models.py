"""Comparisons: a pair of tools, in one canonical order (slug of A < slug of B)."""

from django.db import models
from django.urls import reverse

from shipwith.catalog.models import Tool
from shipwith.catalog.pairs import pair_slug


class ComparisonQuerySet(models.QuerySet):
    def published(self) -> "ComparisonQuerySet":
        return self.filter(published_at__isnull=False)


class Comparison(models.Model):
    tool_a = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="+")
    tool_b = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="+")
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the site promotes this pair."
    )
    similarity = models.FloatField(null=True, blank=True)
    moderator_read = models.TextField(blank=True)
    moderator_model = models.CharField(max_length=200, blank=True)
    moderator_written_at = models.DateTimeField(null=True, blank=True)
    moderator_call = models.CharField(
        max_length=5,
        blank=True,
        choices=[("a", "Tool A"), ("b", "Tool B"), ("close", "Too close to call")],
        help_text="The moderator's pick when asked with the tools in both orders; 'close' when "
        "the two orders disagree.",
    )
    moderator_source = models.CharField(
        max_length=200, blank=True, help_text="Which review versions the read was written from."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ComparisonQuerySet.as_manager()

    class Meta:
        db_table = "web_comparison"  # its table since the pages app held it
        ordering = ["-published_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tool_a", "tool_b"], name="one_comparison_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.tool_a} vs {self.tool_b}"

    def get_absolute_url(self) -> str:
        return reverse("web:compare", args=[self.slug])

    @property
    def slug(self) -> str:
        return pair_slug(self.tool_a, self.tool_b)
