"""Send an issue: claim deliveries in batches, render each reader's digest, hand it to the
mail server with retries, and record every outcome (deliveries.py) before the next."""

import functools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from shipwith.newsletter import links
from shipwith.newsletter.deliveries import (
    LeaseLost,
    deliveries_claim,
    deliveries_plan,
    deliveries_recover,
    delivery_bounce,
    delivery_claim_renew,
    delivery_mark,
    sender_claim,
)
from shipwith.newsletter.digest import DigestCache, digest_message
from shipwith.newsletter.models import Delivery, DeliveryStatus, Issue, Subscriber, SubscriberStatus
from shipwith.newsletter.transport import InDoubt, Permanent, Transient, Transport

log = logging.getLogger(__name__)


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


class SendAborted(Exception):
    """The mail server stayed unreachable; what was not sent stays pending."""


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


def _send_with_retries(
    transport: Transport, message, *, sleep: Callable, renew: Callable[[], None]
) -> int:
    """Send, retrying temporary failures with exponential backoff; return the attempts used."""
    retries = settings.NEWSLETTER_SEND_RETRIES
    base = settings.NEWSLETTER_RETRY_BASE_SECONDS
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
        delivery_mark(
            delivery, DeliveryStatus.SKIPPED, attempts=0, error=f"subscriber {subscriber.status}"
        )
        report.skipped += 1
        return
    digest = digests.get(*preferences.get(subscriber.pk, (frozenset(), [])))
    if not digest.item_count:
        delivery_mark(
            delivery, DeliveryStatus.SKIPPED, attempts=0, error="nothing in their categories"
        )
        report.skipped += 1
        return
    message = digest_message(
        digest=digest,
        to=subscriber.email,
        unsubscribe_url=links.unsubscribe_url(subscriber.pk),
        message_key=f"shipwith.{digests.week_slug}.{delivery.pk}",
    )
    try:
        renew = functools.partial(delivery_claim_renew, delivery, delivery.claim)
        attempts = _send_with_retries(transport, message, sleep=sleep, renew=renew)
    except Transient as exc:
        if exc.connect:
            # Unreachable server: put the row back untouched; the run stops below.
            Delivery.objects.filter(pk=delivery.pk, claim=delivery.claim).update(
                status=DeliveryStatus.PENDING, claim=""
            )
            raise SendAborted(exc.reason) from exc
        delivery_mark(delivery, DeliveryStatus.DEFERRED, attempts=exc.attempts, error=exc.reason)
        report.deferred += 1
    except Permanent as exc:
        delivery_bounce(delivery, attempts=exc.attempts, reason=exc.reason)
        log.info("newsletter %s: %s bounced: %s", digests.week_slug, subscriber.pk, exc.reason)
        report.bounced += 1
    except InDoubt as exc:
        delivery_mark(delivery, DeliveryStatus.IN_DOUBT, attempts=exc.attempts, error=exc.reason)
        log.warning("newsletter %s: delivery %s in doubt: %s", digests.week_slug, delivery.pk, exc)
        report.in_doubt += 1
    else:
        delivery_mark(delivery, DeliveryStatus.SENT, attempts=attempts)
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
    or stalls past its lease is taken over by the next one (see deliveries_recover), and
    nobody is emailed twice.
    """
    started = time.monotonic()
    issue = Issue.objects.get(pk=issue_id)
    report = SendReport(issue=issue.slug)
    Issue.objects.filter(pk=issue.pk, send_started_at__isnull=True).update(
        send_started_at=timezone.now()
    )
    report.recovered_in_doubt += deliveries_recover(issue)
    deliveries_plan(issue)
    claim = sender_claim()
    digests = DigestCache(items=issue.items, week_slug=issue.slug)
    transport = Transport()
    size = batch_size or settings.NEWSLETTER_BATCH_SIZE
    try:
        while batch := deliveries_claim(issue, claim, size):
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
