"""Where new tools come from: sources an editor configures, candidates they decide on."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from shipwith.catalog.models import Category, Tool


class Kind(models.TextChoices):
    OPENROUTER = "openrouter", "OpenRouter model list"
    HUGGINGFACE = "huggingface", "Hugging Face Hub"
    HACKERNEWS = "hackernews", "Hacker News (Show HN)"
    FEED = "feed", "RSS/Atom feed"
    GITHUB = "github", "GitHub repository"
    MODELSDEV = "modelsdev", "models.dev"


# Kinds whose items anyone can post: an editor always decides on them.
NEVER_AUTOPUBLISH = frozenset({Kind.HACKERNEWS})
MIN_INTERVAL = dt.timedelta(seconds=10)

# How often each kind is read unless its row says otherwise: Show HN posts age in hours, model
# lists change a few times a day, a project's releases and repository page a few times a week.
INTERVALS = {
    Kind.HACKERNEWS: dt.timedelta(minutes=15),
    Kind.OPENROUTER: dt.timedelta(hours=1),
    Kind.MODELSDEV: dt.timedelta(hours=1),
    Kind.HUGGINGFACE: dt.timedelta(hours=1),
    Kind.FEED: dt.timedelta(hours=6),
    Kind.GITHUB: dt.timedelta(hours=6),
}


class IngestSource(models.Model):
    """A place new tools and changed facts are read from; its health is kept on the row."""

    name = models.SlugField(max_length=80, unique=True, help_text='e.g. "openrouter-models"')
    kind = models.CharField(max_length=20, choices=Kind.choices)
    url = models.URLField(max_length=500, blank=True, help_text="Empty: the kind's public URL.")
    enabled = models.BooleanField(default=True)
    options = models.JSONField(
        default=dict, blank=True, help_text='Kind-specific, e.g. {"min_likes": 50}.'
    )
    category_hint = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Propose this category for what the source finds, unless a better one fits.",
    )
    autopublish = models.BooleanField(
        default=False,
        help_text="Accept this source's candidates without an editor (never for Hacker News).",
    )
    updates_only = models.BooleanField(
        default=False,
        help_text="Only changes of catalog tools (e.g. a tool's release feed): never a new tool.",
    )
    interval = models.DurationField(
        null=True,
        blank=True,
        help_text="How often it is read, e.g. 0:15:00; empty: the kind's default "
        "(Show HN 15 min, model lists 1 h, feeds and repositories 6 h).",
    )
    next_run_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When it is read next; empty: at once."
    )
    baseline_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its first successful run recorded what it listed as the back catalog "
        "(backlog); only what it lists later is new. Empty: its next run is that baseline.",
    )
    running = models.BooleanField(default=False, editable=False)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    items_seen = models.PositiveIntegerField(default=0, help_text="Items read by the last run.")
    failures_in_row = models.PositiveIntegerField(default=0)
    unreachable = models.BooleanField(
        default=False,
        editable=False,
        help_text="Its last run could not reach the host (no route, DNS): offline?",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=Kind.HACKERNEWS, autopublish=True),
                name="ingest_source_hackernews_never_autopublishes",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def every(self) -> dt.timedelta:
        """How often it is read: its own interval, else its kind's."""
        return self.interval or INTERVALS.get(self.kind, dt.timedelta(hours=1))

    def clean(self) -> None:
        if self.interval is not None and self.interval < MIN_INTERVAL:
            raise ValidationError({"interval": f"at least {MIN_INTERVAL.seconds} seconds"})
        if self.autopublish and self.kind in NEVER_AUTOPUBLISH:
            raise ValidationError(
                {"autopublish": f"{self.get_kind_display()} sources never autopublish."}
            )


class Status(models.TextChoices):
    NEW = "new", "New tool"
    UPDATE = "update", "Update of a known tool"
    DUPLICATE = "duplicate", "Known tool, nothing changed"
    BACKLOG = "backlog", "Back catalog (listed by a source's first run)"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


OPEN_STATUSES = (Status.NEW, Status.UPDATE, Status.DUPLICATE)
# What an accept turns into a new tool: a new candidate, or one from a source's back catalog.
PROPOSED_TOOLS = (Status.NEW, Status.BACKLOG)


class CandidateQuerySet(models.QuerySet):
    def open(self) -> "CandidateQuerySet":
        return self.filter(status__in=OPEN_STATUSES)


class Candidate(models.Model):
    """A tool one or more sources mention, proposed once, until an editor decides."""

    name = models.CharField(max_length=200)
    vendor = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    # The merged, normalised facts (shipwith.ingest.items.Facts as JSON) and, for each fact,
    # the mention it came from ({"licence": mention id}).
    facts = models.JSONField(default=dict)
    fact_mentions = models.JSONField(default=dict)
    # Exact keys for dedupe (lower case), copied from the mentions.
    huggingface_id = models.CharField(max_length=200, blank=True, db_index=True)
    openrouter_slug = models.CharField(max_length=200, blank=True, db_index=True)
    github_repo = models.CharField(max_length=140, blank=True, db_index=True)
    homepage_domain = models.CharField(max_length=200, blank=True, db_index=True)
    release = models.CharField(max_length=120, blank=True, help_text="A release it announces.")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    category_chosen = models.BooleanField(
        default=False,
        editable=False,
        help_text="An editor chose the category: runs no longer propose one.",
    )
    tool = models.ForeignKey(
        Tool,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="candidates",
        help_text="The catalog tool it matched, or the tool its acceptance created.",
    )
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [old, new]}")
    rejection_reason = models.TextField(blank=True)
    submitted_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = CandidateQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [models.Index(fields=["status", "-updated_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class Mention(models.Model):
    """One source's mention of a candidate: where its facts came from, and when."""

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="mentions")
    source = models.ForeignKey(
        IngestSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions"
    )
    source_name = models.CharField(max_length=80, help_text="Kept when the source is deleted.")
    key = models.CharField(max_length=300, help_text="The item's key within its source.")
    url = models.URLField(max_length=1000)
    seen_at = models.DateTimeField(help_text="When the source says it happened.")
    fetched_at = models.DateTimeField()
    facts = models.JSONField(default=dict)
    release = models.CharField(max_length=120, blank=True)
    page_title = models.CharField(max_length=300, blank=True)
    page_text = models.TextField(blank=True, help_text="Plain text of the linked page.")

    class Meta:
        ordering = ["-fetched_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "source_name", "key"], name="ingest_mention_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_name}: {self.key}"


class Validator(models.Model):
    """The ETag / Last-Modified a URL last answered with, for conditional GETs."""

    url = models.CharField(max_length=1000, unique=True)
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.url
