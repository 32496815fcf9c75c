"""Deliveries: one row per issue and subscriber, so nobody is emailed twice.

A sender claims pending rows in batches with one conditional UPDATE, renews its lease on a
row just before sending it (core/leases.py: database time, the same for every host) and
records the outcome before the next. A sender whose lease ran out (killed, frozen, cut off)
is taken over: of its rows still "sending" only the lowest can have reached the mail server,
and it is marked "in doubt", never resent.
"""

import os
import socket
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from shipwith.core.leases import db_now, lease_cutoff
from shipwith.core.workers import task_running_id
from shipwith.newsletter.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    Subscriber,
    SubscriberStatus,
)

PLAN_CHUNK = 500


class LeaseLost(Exception):
    """Another sender took this run's deliveries over: its lease ran out."""


def sender_claim() -> str:
    """A new name for this sender's claim on the rows it takes: the task it runs in, if any
    (earlier_attempts), then host, pid and a run of its own."""
    # Host and pid only help a reader of the admin; whether a claim is alive is judged by its
    # lease (or its task's later attempt), the same way from every host.
    run = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    return f"{earlier_attempts()}{run}"


def earlier_attempts() -> str:
    """The prefix of the claims this task's earlier attempts made ("" outside a worker's task).
    A task runs again only once its earlier attempt is over (its worker judged dead and the
    task requeued, or a retry after a database error): their rows need not wait for the lease.
    """
    task = task_running_id()
    return f"task {task} " if task else ""


def delivery_claim_renew(delivery: Delivery, claim: str) -> None:
    """Renew the lease on the row about to be sent, and prove this run still owns it.

    The UPDATE is the check: after a takeover the row is no longer ours and nothing is sent.
    """
    owned = Delivery.objects.filter(
        pk=delivery.pk, claim=claim, status=DeliveryStatus.SENDING
    ).update(touched_at=db_now())
    if not owned:
        raise LeaseLost(f"delivery {delivery.pk} was taken over by another sender")


def deliveries_recover(issue: Issue) -> int:
    """Settle rows of senders whose lease ran out (killed, frozen, cut off, on any host), and
    at once those of this task's earlier attempts (a worker killed mid-send: core/workers.py).

    A sender handles its claimed rows in id order, renews its lease on each row just before
    sending it and records each outcome before the next, so of a stale claim's rows still
    marked "sending" only the lowest can have reached the mail server: it becomes "in doubt"
    and is never resent (at most once); the others were never tried and go back to pending.
    Return how many rows became "in doubt".
    """
    cutoff = lease_cutoff(settings.NEWSLETTER_CLAIM_LEASE)
    ours = earlier_attempts()
    over = Q(last__lt=cutoff) | Q(claim__startswith=ours) if ours else Q(last__lt=cutoff)
    stale = (
        Delivery.objects.filter(issue=issue, status=DeliveryStatus.SENDING)
        .values("claim")
        .annotate(last=Max("touched_at"))
        .filter(over)
    )
    in_doubt = 0
    for claim in [row["claim"] for row in stale]:
        with transaction.atomic():
            stuck = Delivery.objects.filter(
                issue=issue, claim=claim, status=DeliveryStatus.SENDING
            ).order_by("pk")
            # Lock the rows, then look again: a sender that renewed meanwhile keeps them, and
            # one renewing from now on waits for this transaction and then finds them gone.
            ids = list(stuck.select_for_update().values_list("pk", flat=True))
            ended = bool(ours) and claim.startswith(ours)  # this task's earlier attempt
            if not ids or (not ended and stuck.filter(touched_at__gte=cutoff).exists()):
                continue
            Delivery.objects.filter(pk=ids[0]).update(
                status=DeliveryStatus.IN_DOUBT,
                error="the sender stopped while this message was in flight",
                touched_at=db_now(),
            )
            Delivery.objects.filter(pk__in=ids[1:]).update(status=DeliveryStatus.PENDING, claim="")
        in_doubt += 1
    # Temporary failures of an earlier run get a new chance in this one.
    Delivery.objects.filter(issue=issue, status=DeliveryStatus.DEFERRED).update(
        status=DeliveryStatus.PENDING, claim=""
    )
    return in_doubt


def deliveries_plan(issue: Issue) -> None:
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


def deliveries_claim(issue: Issue, claim: str, size: int) -> list[Delivery]:
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
            status=DeliveryStatus.SENDING, claim=claim, touched_at=db_now()
        ):
            break
    return list(
        Delivery.objects.filter(pk__in=ids, claim=claim, status=DeliveryStatus.SENDING)
        .select_related("subscriber")
        .order_by("pk")
    )


def delivery_mark(delivery: Delivery, status: str, *, attempts: int, error: str = "") -> None:
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


def delivery_bounce(delivery: Delivery, *, attempts: int, reason: str) -> None:
    """Record a refused address, and mail it no more."""
    with transaction.atomic():
        delivery_mark(delivery, DeliveryStatus.BOUNCED, attempts=attempts, error=reason)
        Subscriber.objects.filter(pk=delivery.subscriber_id).update(
            status=SubscriberStatus.BOUNCED, bounced_at=timezone.now(), bounce_reason=reason[:300]
        )
