"""Writes for the newsletter: subscribe, confirm, unsubscribe, compose and send an issue."""

import datetime as dt
import functools
import hashlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max
from django.db.models.functions import Now
from django.template.loader import render_to_string
from django.utils import timezone

from shipwith.catalog.models import Category
from shipwith.newsletter import links
from shipwith.newsletter.digest import DigestCache, digest_message
from shipwith.newsletter.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    Subscriber,
    SubscriberStatus,
)
from shipwith.newsletter.selectors import Week, week_items
from shipwith.newsletter.transport import InDoubt, Permanent, Transient, Transport

log = logging.getLogger(__name__)
PLAN_CHUNK = 500


def _setting(name: str, default):
    return getattr(settings, name, default)


def email_normalize(email: str) -> str:
    """Lower-case the address so one mailbox is one subscriber."""
    return email.strip().lower()


# -- subscribing ---------------------------------------------------------------------------


def subscription_request(*, email: str, category_ids: list[int]) -> bool:
    """Email a signed confirmation link; return False when the address is cooling down.

    The same happens whether or not the address is already subscribed: a subscriber who asks
    again gets a link that updates their categories. Nothing is stored until the link is used.
    """
    email = email_normalize(email)
    key = "newsletter:confirm-sent:" + hashlib.sha256(email.encode()).hexdigest()
    # One confirmation per address per cooldown, so the form cannot be used to mail-bomb.
    if not cache.add(key, 1, timeout=_setting("NEWSLETTER_CONFIRM_COOLDOWN", 600)):
        return False
    categories = Category.objects.filter(pk__in=category_ids).order_by("name")
    token = links.confirm_token(email=email, category_ids=[c.pk for c in categories])
    context = {
        "confirm_url": links.confirm_url(token),
        "category_names": [c.name for c in categories],
        "valid_days": _setting("NEWSLETTER_CONFIRM_MAX_AGE", 3 * 24 * 3600) // 86400,
    }
    EmailMessage(
        subject=render_to_string("newsletter/email/confirm_subject.txt").strip(),
        body=render_to_string("newsletter/email/confirm.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
    ).send()
    return True


def subscription_confirm(
    *, email: str, category_ids: list[int], issued_at: dt.datetime
) -> Subscriber | None:
    """Confirm (or re-confirm) an address with its link's categories; None when it is spent.

    A link issued at `issued_at` is spent once the address has changed state since: confirmed
    (by this link or a newer one), unsubscribed or bounced. So a link works once, and an old
    link can never undo a later unsubscribe.
    """
    email = email_normalize(email)
    # Never at or before the link's own time, even when this host's clock lags the one that
    # signed it: a second use must always find the address changed since the link was issued.
    now = max(timezone.now(), issued_at + dt.timedelta(microseconds=1))
    with transaction.atomic():
        subscriber, created = Subscriber.objects.select_for_update().get_or_create(
            email=email, defaults={"confirmed_at": now}
        )
        if not created:
            changes = [subscriber.confirmed_at, subscriber.unsubscribed_at, subscriber.bounced_at]
            if any(at is not None and at >= issued_at for at in changes):
                return None
            subscriber.status = SubscriberStatus.CONFIRMED
            subscriber.confirmed_at = now
            subscriber.unsubscribed_at = None
            subscriber.bounced_at = None
            subscriber.bounce_reason = ""
            subscriber.save()
        subscriber.categories.set(Category.objects.filter(pk__in=category_ids))
    return subscriber


def subscriber_unsubscribe(*, subscriber_id: int) -> None:
    """Unsubscribe; a second call, or an unknown id, changes nothing."""
    Subscriber.objects.filter(pk=subscriber_id, status=SubscriberStatus.CONFIRMED).update(
        status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=timezone.now()
    )


# -- composing -----------------------------------------------------------------------------


def issue_compose(*, week: Week) -> Issue | None:
    """Freeze the week's ranked items into an issue; None when the week had nothing."""
    if issue := Issue.objects.filter(slug=week.slug).first():
        return issue
    items = week_items(week)
    if not items:
        return None
    try:
        with transaction.atomic():
            return Issue.objects.create(
                slug=week.slug, week_start=week.start, week_end=week.end, items=items
            )
    except IntegrityError:  # another sender composed it first
        return Issue.objects.get(slug=week.slug)


# -- sending -------------------------------------------------------------------------------


@dataclass
class SendReport:
    issue: str
    sent: int = 0
    bounced: int = 0
    deferred: int = 0
    in_doubt: int = 0
    skipped: int = 0
    recovered_in_doubt: int = 0
    aborted: str = ""
    seconds: float = 0.0

    def __str__(self) -> str:
        text = (
            f"{self.issue}: sent {self.sent}, bounced {self.bounced}, deferred {self.deferred}, "
            f"in doubt {self.in_doubt + self.recovered_in_doubt} (never resent), "
            f"skipped {self.skipped} in {self.seconds:.1f}s"
        )
        return text + (f"; stopped: {self.aborted}" if self.aborted else "")


def _claim_name() -> str:
    # Host and pid only help a reader of the admin; whether a claim is alive is judged by its
    # lease alone, the same way from every host.
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _lease_cutoff():
    """Claims not renewed since this (database) time are stale; no host's clock is trusted."""
    return Now() - dt.timedelta(seconds=_setting("NEWSLETTER_CLAIM_LEASE", 900))


class LeaseLost(Exception):
    """Another sender took this run's deliveries over: its lease ran out."""


def _claim_renew(delivery: Delivery, claim: str) -> None:
    """Renew the lease on the row about to be sent, and prove this run still owns it.

    The UPDATE is the check: after a takeover the row is no longer ours and nothing is sent.
    """
    owned = Delivery.objects.filter(
        pk=delivery.pk, claim=claim, status=DeliveryStatus.SENDING
    ).update(touched_at=Now())
    if not owned:
        raise LeaseLost(f"delivery {delivery.pk} was taken over by another sender")


def _deliveries_recover(issue: Issue, report: SendReport) -> None:
    """Settle rows of senders whose lease ran out (killed, frozen, cut off, on any host).

    A sender handles its claimed rows in id order, renews its lease on each row just before
    sending it and records each outcome before the next, so of a stale claim's rows still
    marked "sending" only the lowest can have reached the mail server: it becomes "in doubt"
    and is never resent (at most once); the others were never tried and go back to pending.
    """
    stale = (
        Delivery.objects.filter(issue=issue, status=DeliveryStatus.SENDING)
        .values("claim")
        .annotate(last=Max("touched_at"))
        .filter(last__lt=_lease_cutoff())
    )
    for claim in [row["claim"] for row in stale]:
        with transaction.atomic():
            stuck = Delivery.objects.filter(
                issue=issue, claim=claim, status=DeliveryStatus.SENDING
            ).order_by("pk")
            # Lock the rows, then look again: a sender that renewed meanwhile keeps them, and
            # one renewing from now on waits for this transaction and then finds them gone.
            ids = list(stuck.select_for_update().values_list("pk", flat=True))
            if not ids or stuck.filter(touched_at__gte=_lease_cutoff()).exists():
                continue
            Delivery.objects.filter(pk=ids[0]).update(
                status=DeliveryStatus.IN_DOUBT,
                error="the sender stopped while this message was in flight",
                touched_at=Now(),
            )
            Delivery.objects.filter(pk__in=ids[1:]).update(status=DeliveryStatus.PENDING, claim="")
        report.recovered_in_doubt += 1
    # Temporary failures of an earlier run get a new chance in this one.
    Delivery.objects.filter(issue=issue, status=DeliveryStatus.DEFERRED).update(
        status=DeliveryStatus.PENDING, claim=""
    )


def _deliveries_plan(issue: Issue) -> None:
    """Add a pending delivery for every confirmed subscriber who has none for this issue."""
    subscriber_ids = Subscriber.objects.confirmed().order_by("pk").values_list("pk", flat=True)
    chunk: list[Delivery] = []
    # Fixed-size chunks keep memory flat however long the list is.
    for subscriber_id in subscriber_ids.iterator(chunk_size=PLAN_CHUNK):
        chunk.append(Delivery(issue=issue, subscriber_id=subscriber_id))
        if len(chunk) == PLAN_CHUNK:
            Delivery.objects.bulk_create(chunk, ignore_conflicts=True)
            chunk = []
    if chunk:
        Delivery.objects.bulk_create(chunk, ignore_conflicts=True)


def _claim_batch(issue: Issue, claim: str, size: int) -> list[Delivery]:
    """Claim up to `size` pending rows; empty only when no row is left pending.

    Another sender may claim the rows read here before this UPDATE reaches them; then the
    UPDATE takes none and the next pending rows are read again (each miss means another sender
    made progress, so this ends).
    """
    while True:
        ids = list(
            Delivery.objects.filter(issue=issue, status=DeliveryStatus.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return []
        if Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.SENDING, claim=claim, touched_at=Now()
        ):
            break
    return list(
        Delivery.objects.filter(pk__in=ids, claim=claim, status=DeliveryStatus.SENDING)
        .select_related("subscriber")
        .order_by("pk")
    )


def _preferences(batch: list[Delivery]) -> dict[int, tuple[frozenset[str], list[str]]]:
    """Category slugs and names per subscriber of a batch, in one query.

    Plain tuples rather than prefetch_related: prefetched querysets form reference cycles that
    only the cyclic collector frees, and memory would then grow with the size of the list.
    """
    rows = Subscriber.categories.through.objects.filter(
        subscriber_id__in=[delivery.subscriber_id for delivery in batch]
    ).values_list("subscriber_id", "category__slug", "category__name")
    found: dict[int, tuple[set[str], list[str]]] = {}
    for subscriber_id, slug, name in rows:
        slugs, names = found.setdefault(subscriber_id, (set(), []))
        slugs.add(slug)
        names.append(name)
    return {pk: (frozenset(slugs), sorted(names)) for pk, (slugs, names) in found.items()}


def _mark(delivery: Delivery, status: str, *, attempts: int, error: str = "") -> None:
    """Record one outcome; runs once per message, so it is one plain UPDATE, not the ORM.

    Only on a row this run claimed: a row another sender took over keeps its new state, except
    that "in doubt" becomes "sent" when the message it was unsure about did go out.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Delivery._meta.db_table} SET status = %s, attempts = %s, error = %s, "
            "touched_at = %s, sent_at = %s WHERE id = %s AND claim = %s",
            [
                status,
                attempts,
                error[:300],
                now,
                now if status == DeliveryStatus.SENT else None,
                delivery.pk,
                delivery.claim,
            ],
        )


def _bounce(delivery: Delivery, *, attempts: int, reason: str) -> None:
    with transaction.atomic():
        _mark(delivery, DeliveryStatus.BOUNCED, attempts=attempts, error=reason)
        Subscriber.objects.filter(pk=delivery.subscriber_id).update(
            status=SubscriberStatus.BOUNCED, bounced_at=timezone.now(), bounce_reason=reason[:300]
        )


class SendAborted(Exception):
    """The mail server stayed unreachable; what was not sent stays pending."""


def _send_with_retries(
    transport: Transport, message, *, sleep: Callable, renew: Callable[[], None]
) -> int:
    """Send, retrying temporary failures with exponential backoff; return the attempts used."""
    retries = _setting("NEWSLETTER_SEND_RETRIES", 4)
    base = _setting("NEWSLETTER_RETRY_BASE_SECONDS", 2.0)
    for attempt in range(1, retries + 2):
        renew()  # before every attempt: the lease stays fresh through long backoffs
        try:
            transport.send(message)
            return attempt
        except Transient as exc:
            exc.attempts = attempt
            if attempt > retries:
                raise
            # Jitter keeps several senders from hammering a recovering server in step.
            sleep(base * 2 ** (attempt - 1) * random.uniform(0.8, 1.2))
        except (Permanent, InDoubt) as exc:
            exc.attempts = attempt
            raise
    raise AssertionError("unreachable")


def _process(delivery, preferences, digests: DigestCache, transport: Transport, report, sleep):
    subscriber = delivery.subscriber
    if subscriber.status != SubscriberStatus.CONFIRMED:
        _mark(delivery, DeliveryStatus.SKIPPED, attempts=0, error=f"subscriber {subscriber.status}")
        report.skipped += 1
        return
    digest = digests.get(*preferences.get(subscriber.pk, (frozenset(), [])))
    if not digest.item_count:
        _mark(delivery, DeliveryStatus.SKIPPED, attempts=0, error="nothing in their categories")
        report.skipped += 1
        return
    message = digest_message(
        digest=digest,
        to=subscriber.email,
        unsubscribe_url=links.unsubscribe_url(subscriber.pk),
        message_key=f"shipwith.{digests.week_slug}.{delivery.pk}",
    )
    try:
        renew = functools.partial(_claim_renew, delivery, delivery.claim)
        attempts = _send_with_retries(transport, message, sleep=sleep, renew=renew)
    except Transient as exc:
        if exc.connect:
            # Unreachable server: put the row back untouched; the run stops below.
            Delivery.objects.filter(pk=delivery.pk, claim=delivery.claim).update(
                status=DeliveryStatus.PENDING, claim=""
            )
            raise SendAborted(exc.reason) from exc
        _mark(delivery, DeliveryStatus.DEFERRED, attempts=exc.attempts, error=exc.reason)
        report.deferred += 1
    except Permanent as exc:
        _bounce(delivery, attempts=exc.attempts, reason=exc.reason)
        log.info("newsletter %s: %s bounced: %s", digests.week_slug, subscriber.pk, exc.reason)
        report.bounced += 1
    except InDoubt as exc:
        _mark(delivery, DeliveryStatus.IN_DOUBT, attempts=exc.attempts, error=exc.reason)
        log.warning("newsletter %s: delivery %s in doubt: %s", digests.week_slug, delivery.pk, exc)
        report.in_doubt += 1
    else:
        _mark(delivery, DeliveryStatus.SENT, attempts=attempts)
        report.sent += 1


def issue_send(
    *,
    issue_id: int,
    batch_size: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[SendReport], None] | None = None,
) -> SendReport:
    """Send an issue to every confirmed subscriber who has not had it; safe to re-run.

    Each delivery is claimed, sent, then marked before the next one starts; a run that dies
    or stalls past its lease is taken over by the next one (see _deliveries_recover), and
    nobody is emailed twice.
    """
    started = time.monotonic()
    issue = Issue.objects.get(pk=issue_id)
    report = SendReport(issue=issue.slug)
    Issue.objects.filter(pk=issue.pk, send_started_at__isnull=True).update(
        send_started_at=timezone.now()
    )
    _deliveries_recover(issue, report)
    _deliveries_plan(issue)
    claim = _claim_name()
    digests = DigestCache(items=issue.items, week_slug=issue.slug)
    transport = Transport()
    size = batch_size or _setting("NEWSLETTER_BATCH_SIZE", 200)
    try:
        while batch := _claim_batch(issue, claim, size):
            preferences = _preferences(batch)
            for position, delivery in enumerate(batch):
                try:
                    _process(delivery, preferences, digests, transport, report, sleep)
                except SendAborted as exc:
                    Delivery.objects.filter(
                        pk__in=[d.pk for d in batch[position + 1 :]],
                        claim=claim,
                        status=DeliveryStatus.SENDING,
                    ).update(status=DeliveryStatus.PENDING, claim="")
                    report.aborted = f"mail server unreachable ({exc}); run send again"
                    return report
                except LeaseLost as exc:
                    report.aborted = (
                        f"this sender stalled past its lease and another took over ({exc})"
                    )
                    return report
            if progress:
                progress(report)
    finally:
        transport.close()
        report.seconds = time.monotonic() - started
    if not Delivery.objects.filter(
        issue=issue, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    ).exists():
        Issue.objects.filter(pk=issue.pk).update(send_finished_at=timezone.now())
    return report


def issue_counts(*, issue_id: int) -> dict[str, int]:
    """Deliveries of an issue by status."""
    rows = (
        Delivery.objects.filter(issue_id=issue_id)
        .values_list("status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return dict(rows)
