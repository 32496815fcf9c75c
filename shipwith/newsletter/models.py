"""The weekly newsletter: confirmed subscribers, frozen issues, one delivery per pair."""

from django.db import models
from django.urls import reverse

from shipwith.catalog.models import Category


class SubscriberStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced (the mail server refused the address)"


class SubscriberQuerySet(models.QuerySet):
    def confirmed(self) -> "SubscriberQuerySet":
        return self.filter(status=SubscriberStatus.CONFIRMED)


class Subscriber(models.Model):
    """An address that clicked its confirmation link at least once.

    Unconfirmed requests leave no row: the signed link carries the address until it is clicked.
    """

    email = models.EmailField(max_length=254, unique=True)
    status = models.CharField(
        max_length=12, choices=SubscriberStatus.choices, default=SubscriberStatus.CONFIRMED
    )
    categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="+",
        help_text="Only these categories go into this reader's digest; none means all.",
    )
    confirmed_at = models.DateTimeField()
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["email"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.email


class Issue(models.Model):
    """One week's digest; its items are frozen when composed so the archive never shifts."""

    slug = models.SlugField(max_length=10, unique=True, help_text='ISO week, e.g. "2026-w47".')
    week_start = models.DateTimeField(unique=True)
    week_end = models.DateTimeField()
    items = models.JSONField(default=list, help_text="Ranked items as composed.")
    composed_at = models.DateTimeField(auto_now_add=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    send_finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-week_start"]

    def __str__(self) -> str:
        return f"Weekly AI tool verdicts {self.slug}"

    def get_absolute_url(self) -> str:
        return reverse("newsletter:issue", args=[self.slug])

    @property
    def comparison_count(self) -> int:
        return sum(item["kind"] == "comparison" for item in self.items)

    @property
    def flip_count(self) -> int:
        return sum(item["kind"] == "flip" for item in self.items)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Claimed by a sender"
    SENT = "sent", "Sent"
    BOUNCED = "bounced", "Refused permanently (5xx)"
    DEFERRED = "deferred", "Deferred (temporary failures; the next send retries)"
    IN_DOUBT = "in_doubt", "In doubt (sender stopped mid-send; never resent)"
    SKIPPED = "skipped", "Skipped (nothing in the reader's categories, or unsubscribed)"


class Delivery(models.Model):
    """One subscriber's copy of one issue; the unique pair is what makes sends resumable."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    claim = models.CharField(
        max_length=120, blank=True, help_text="host:pid:run of the sender that claimed it."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    touched_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["issue", "subscriber"], name="one_delivery_per_issue")
        ]
        indexes = [models.Index(fields=["issue", "status"])]

    def __str__(self) -> str:
        return f"{self.issue.slug} → {self.subscriber.email}: {self.status}"
