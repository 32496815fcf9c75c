"""The newsletter's readers: ask to subscribe (a signed link by email), confirm, unsubscribe.

Nothing is stored until a link is used, and a link works once (see subscription_confirm).
"""

import datetime as dt
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from shipwith.catalog.models import Category
from shipwith.newsletter import links
from shipwith.newsletter.models import Subscriber, SubscriberStatus


def email_normalize(email: str) -> str:
    """Lower-case the address so one mailbox is one subscriber."""
    return email.strip().lower()


def subscription_request(*, email: str, category_ids: list[int]) -> bool:
    """Email a signed confirmation link; return False when the address is cooling down.

    The same happens whether or not the address is already subscribed: a subscriber who asks
    again gets a link that updates their categories. Nothing is stored until the link is used.
    """
    email = email_normalize(email)
    key = "newsletter:confirm-sent:" + hashlib.sha256(email.encode()).hexdigest()
    # One confirmation per address per cooldown, so the form cannot be used to mail-bomb.
    if not cache.add(key, 1, timeout=settings.NEWSLETTER_CONFIRM_COOLDOWN):
        return False
    categories = Category.objects.filter(pk__in=category_ids).order_by("name")
    token = links.confirm_token(email=email, category_ids=[c.pk for c in categories])
    context = {
        "confirm_url": links.confirm_url(token),
        "category_names": [c.name for c in categories],
        "valid_days": settings.NEWSLETTER_CONFIRM_MAX_AGE // 86400,
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
