"""The panel: personas (data an editor edits), runs, and versioned reviews."""

from django.db import models

from shipwith.catalog.models import Tool
from shipwith.panel.llm.registry import model_spec_validate

# Providers whose text is of little value (see shipwith.panel.llm.LOW_CAPABILITY_NOTE): a
# panel with a take from one is a draft (shipwith.panel.selectors.PanelSummary.is_draft).
LOW_CAPABILITY_PROVIDERS = frozenset({"local"})
# Review.is_low_capability, in SQL.
LOW_CAPABILITY = models.Q(provider__in=LOW_CAPABILITY_PROVIDERS)


def is_low_capability(provider_or_spec: str) -> bool:
    """Is text by this provider ("local") or model ("local:NAME.gguf") of little value?"""
    return provider_or_spec.partition(":")[0].strip().lower() in LOW_CAPABILITY_PROVIDERS


class Persona(models.Model):
    key = models.SlugField(max_length=40, unique=True, help_text="builder, skeptic, futurist…")
    name = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField(default=0)
    lens = models.TextField(help_text="What this reviewer looks at first.")
    priorities = models.TextField(help_text="What earns a ship, one per line.")
    deal_breakers = models.TextField(help_text="What forces a skip, one per line.")
    voice = models.TextField(help_text="How this reviewer writes.")
    model_spec = models.CharField(
        max_length=120,
        blank=True,
        validators=[model_spec_validate],
        help_text='Override the panel model for this persona, e.g. "openai:gpt-4o-mini". '
        "Empty uses SHIPWITH_LLM.",
    )
    alternate_spec = models.CharField(
        "alternate model",
        max_length=120,
        blank=True,
        validators=[model_spec_validate],
        help_text="A model of another family that takes this seat when the persona's model must "
        "leave it (a model never reviews its own vendor's tool). Empty uses "
        "SHIPWITH_LLM_ALTERNATE.",
    )
    prompt_version = models.PositiveIntegerField(
        default=1, help_text="Bumped whenever the persona's text changes."
    )
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    INCOMPLETE = "incomplete", "Incomplete"
    FAILED = "failed", "Failed"


class PanelRun(models.Model):
    """One attempt to review a tool with every active persona."""

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="panel_runs")
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    model_spec = models.CharField(max_length=120, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tool} panel #{self.pk} ({self.status})"


class SeatStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Review stored"
    FAILED = "failed", "Failed"
    RECUSED = "recused", "Recused (model from the tool's vendor)"


class Seat(models.Model):
    """A persona's place in a run: what happened, and the review it produced if any."""

    run = models.ForeignKey(PanelRun, on_delete=models.CASCADE, related_name="seats")
    persona = models.ForeignKey(Persona, on_delete=models.PROTECT, related_name="seats")
    status = models.CharField(max_length=10, choices=SeatStatus.choices, default=SeatStatus.PENDING)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    model_spec = models.CharField(max_length=120, blank=True, help_text="The model asked.")
    raw_output = models.TextField(blank=True, help_text="What the model said, when it failed.")
    updated_at = models.DateTimeField(auto_now=True, null=True)
    retry_after = models.DateTimeField(
        null=True, blank=True, help_text="When the worker tries this failed seat again."
    )
    claimed_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A worker is asking this seat's model until then; past it, the seat is free "
        "again (a killed worker's seat is resumed).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "persona"], name="one_seat_per_persona")
        ]

    def __str__(self) -> str:
        return f"{self.persona} in {self.run}"


class Verdict(models.TextChoices):
    SHIP = "ship", "Ship"
    SKIP = "skip", "Skip"


class Review(models.Model):
    """One persona's validated take on one tool; re-runs add versions, never overwrite."""

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="reviews")
    persona = models.ForeignKey(Persona, on_delete=models.PROTECT, related_name="reviews")
    run = models.ForeignKey(
        PanelRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    seat = models.OneToOneField(
        Seat, null=True, blank=True, on_delete=models.SET_NULL, related_name="review"
    )
    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    verdict = models.CharField(max_length=4, choices=Verdict.choices)
    take = models.TextField()
    confidence = models.PositiveSmallIntegerField()
    competitors = models.JSONField(default=list, blank=True)
    key_risk = models.TextField(blank=True)
    claim_to_pressure = models.TextField(blank=True)
    evidence_quotes = models.JSONField(default=list, blank=True)
    evidence_sources = models.JSONField(
        default=list,
        blank=True,
        help_text="For each kept quote, the id of the source it was found in (null: the catalog "
        "entry).",
    )
    dropped_quotes = models.JSONField(
        default=list, blank=True, help_text="Quotes the model gave that are not in the sources."
    )
    flags = models.JSONField(default=list, blank=True, help_text="Why this review is flagged.")
    previous_verdict = models.CharField(max_length=4, choices=Verdict.choices, blank=True)
    prompt_version = models.PositiveIntegerField()
    prompt_layout = models.CharField(
        max_length=20, blank=True, help_text="Version of the shared prompt files (panel/prompts/)."
    )
    model_id = models.CharField(max_length=200)
    provider = models.CharField(max_length=40)
    alternate_for = models.CharField(
        max_length=200,
        blank=True,
        help_text="The model that had to leave this seat, and why, when an alternate wrote it.",
    )
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    raw_output = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["persona__position", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["tool", "persona", "version"], name="one_review_per_version"
            ),
            models.UniqueConstraint(
                fields=["tool", "persona"],
                condition=models.Q(is_current=True),
                name="one_current_review",
            ),
        ]
        indexes = [
            models.Index(fields=["tool", "is_current"]),
            # The API's /changes: reviews since a time, oldest first.
            models.Index(fields=["created_at", "id"], name="panel_review_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.persona} on {self.tool} v{self.version}: {self.verdict}"

    @property
    def flipped(self) -> bool:
        return bool(self.previous_verdict) and self.previous_verdict != self.verdict

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def evidence(self) -> list[tuple[str, int | None]]:
        """Each verified quote with the id of the source it was found in."""
        sources = list(self.evidence_sources) + [None] * len(self.evidence_quotes)
        return list(zip(self.evidence_quotes, sources, strict=False))

    @property
    def is_low_capability(self) -> bool:
        """Written by the tiny embedded model: pages show LOW_CAPABILITY_NOTE beside it."""
        return is_low_capability(self.provider)


class PanelEval(models.Model):
    """The figures of one `shipwith panel eval` of a model, kept so the methodology page shows
    the latest."""

    model_spec = models.CharField(max_length=200)
    model_id = models.CharField(max_length=200, blank=True)
    tools = models.PositiveIntegerField()
    figures = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["model_spec", "-created_at"])]

    def __str__(self) -> str:
        return f"eval of {self.model_spec} on {self.tools} tools"
