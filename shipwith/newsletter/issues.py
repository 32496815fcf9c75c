"""Issues: a week's ranked items frozen once, so every reader gets the same digest."""

from django.db import IntegrityError, transaction
from django.db.models import Count

from shipwith.newsletter.models import Delivery, Issue
from shipwith.newsletter.selectors import Week, week_items


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


def issue_counts(*, issue_id: int) -> dict[str, int]:
    """Deliveries of an issue by status."""
    rows = (
        Delivery.objects.filter(issue_id=issue_id)
        .values_list("status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return dict(rows)
