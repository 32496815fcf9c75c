"""Reader votes: ship/skip per tool, "which would you ship with?" per pair, and their tallies.

Counts readers see come from the tally rows, which the vote services update in the same
transaction as the vote itself; `tallies_rebuild` recomputes them from the votes.
"""

from django.conf import settings
from django.db import models

from shipwith.catalog.models import Tool


class Voter(models.Model):
    """Whoever votes: an account, or an anonymous reader known by a signed cookie."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="voter",
    )
    excluded = models.BooleanField(
        default=False,
        help_text="Excluded voters may still vote, but their votes count in no figure. "
        "Change it with the admin actions so the exclusion is logged.",
    )
    day = models.DateField(null=True, blank=True, help_text="The day `day_count` counts.")
    day_count = models.PositiveIntegerField(default=0, help_text="Vote writes on `day`.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"voter #{self.pk}" + (f" ({self.user})" if self.user_id else "")


class Choice(models.TextChoices):
    SHIP = "ship", "Ship"
    SKIP = "skip", "Skip"


class Vote(models.Model):
    voter = models.ForeignKey(Voter, on_delete=models.CASCADE, related_name="votes")
    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="votes")
    value = models.CharField(max_length=4, choices=Choice.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["voter", "tool"], name="one_vote_per_voter_per_tool"),
            models.CheckConstraint(
                condition=models.Q(value__in=["ship", "skip"]), name="vote_value_ship_or_skip"
            ),
        ]
        indexes = [models.Index(fields=["tool", "value"])]

    def __str__(self) -> str:
        return f"{self.voter} → {self.tool}: {self.value}"


class ToolTally(models.Model):
    """A tool's counted ship/skip votes (excluded voters left out)."""

    tool = models.OneToOneField(
        Tool, primary_key=True, on_delete=models.CASCADE, related_name="votes_tally"
    )
    ships = models.PositiveIntegerField(default=0)
    skips = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.tool}: {self.ships} ship / {self.skips} skip"


class PairChoice(models.TextChoices):
    A = "a", "A"
    B = "b", "B"
    NEITHER = "neither", "Neither"


class PairVote(models.Model):
    """A "which would you ship with?" answer; A and B in canonical order (slug A < slug B)."""

    voter = models.ForeignKey(Voter, on_delete=models.CASCADE, related_name="pair_votes")
    tool_a = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="+")
    tool_b = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="+")
    choice = models.CharField(max_length=7, choices=PairChoice.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["voter", "tool_a", "tool_b"], name="one_pair_vote_per_voter_per_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(choice__in=["a", "b", "neither"]), name="pair_choice_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(tool_a=models.F("tool_b")), name="pair_of_two_tools"
            ),
        ]
        indexes = [models.Index(fields=["tool_a", "tool_b"])]

    def __str__(self) -> str:
        return f"{self.voter}: {self.tool_a} vs {self.tool_b} → {self.choice}"


class PairTally(models.Model):
    tool_a = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="+")
    tool_b = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="+")
    a = models.PositiveIntegerField(default=0)
    b = models.PositiveIntegerField(default=0)
    neither = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tool_a", "tool_b"], name="one_tally_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.tool_a} {self.a} · {self.tool_b} {self.b} · neither {self.neither}"

    @property
    def total(self) -> int:
        return self.a + self.b + self.neither


class VoterExclusion(models.Model):
    """The log of editors excluding (or restoring) a voter's votes: who, when, why."""

    voter = models.ForeignKey(Voter, on_delete=models.CASCADE, related_name="exclusions")
    excluded = models.BooleanField(help_text="True when excluded, False when restored.")
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        action = "excluded" if self.excluded else "restored"
        return f"{self.voter} {action} by {self.editor} on {self.created_at:%Y-%m-%d}"


class RatingFit(models.Model):
    """One Bradley-Terry fit over every counted head-to-head vote."""

    fitted_at = models.DateTimeField(auto_now_add=True)
    votes = models.PositiveIntegerField()
    tools = models.PositiveIntegerField()
    rounds = models.PositiveIntegerField(help_text="Bootstrap rounds behind the intervals.")
    seconds = models.FloatField()

    class Meta:
        ordering = ["-fitted_at", "-pk"]
        get_latest_by = "fitted_at"

    def __str__(self) -> str:
        return f"fit #{self.pk} ({self.votes} votes, {self.tools} tools)"


class Rating(models.Model):
    """A tool's rating in a fit, on an Elo-like scale (400 points = 10:1 odds)."""

    fit = models.ForeignKey(RatingFit, on_delete=models.CASCADE, related_name="ratings")
    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="ratings")
    score = models.FloatField()
    lower = models.FloatField()
    upper = models.FloatField()
    votes = models.PositiveIntegerField()
    rank = models.PositiveIntegerField(help_text="Among all rated tools.")
    category_rank = models.PositiveIntegerField(help_text="Among rated tools of its category.")

    class Meta:
        ordering = ["rank", "-score"]
        constraints = [
            models.UniqueConstraint(fields=["fit", "tool"], name="one_rating_per_tool_per_fit")
        ]

    def __str__(self) -> str:
        return f"{self.tool}: {self.score:.0f} [{self.lower:.0f}, {self.upper:.0f}]"
