"""A send task run again after its worker was killed mid-send (core/workers.py requeues it)
settles what its killed attempt held at once, not after the claim's 15-minute lease; another
sender's rows, alive, are left to it."""

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shipwith.core.workers import task_running
from shipwith.newsletter import tasks
from shipwith.newsletter.deliveries import deliveries_plan
from shipwith.newsletter.issues import issue_compose
from shipwith.newsletter.models import Delivery, DeliveryStatus, Issue
from shipwith.newsletter.sending import issue_send

pytestmark = pytest.mark.django_db
TASK = "0b7c6a52-6f7e-4c1e-9a4b-2f1d3c5e7a90"


@pytest.fixture
def mid_send(digest_week, make_subscriber):
    """An issue whose send was under way in two senders: this task's attempt, killed while
    handing held@ over, and another sender, alive, with other@."""
    for email in ("held@example.com", "waiting@example.com", "other@example.com"):
        make_subscriber(email)
    issue = issue_compose(week=digest_week)
    deliveries_plan(issue)
    now = timezone.now()
    rows = Delivery.objects.filter(issue=issue)
    rows.filter(subscriber__email="held@example.com").update(
        status=DeliveryStatus.SENDING, claim=f"task {TASK} host:4242:killed", touched_at=now
    )
    rows.filter(subscriber__email="other@example.com").update(
        status=DeliveryStatus.SENDING, claim="task 5d1e host:77:alive", touched_at=now
    )
    return issue


def statuses(issue) -> dict[str, str]:
    return dict(Delivery.objects.filter(issue=issue).values_list("subscriber__email", "status"))


def test_the_task_run_again_settles_its_killed_attempt_at_once(mid_send, smtp_server):
    with task_running(TASK):  # as the worker runs the requeued task
        report = issue_send(issue_id=mid_send.pk)
    assert report.recovered_in_doubt == 1 and report.sent == 1
    # The killed attempt may have handed held@'s copy over: in doubt, never resent.
    assert statuses(mid_send) == {
        "held@example.com": DeliveryStatus.IN_DOUBT,
        "waiting@example.com": DeliveryStatus.SENT,
        "other@example.com": DeliveryStatus.SENDING,  # the live sender's, still its own
    }
    assert [message["To"] for message in smtp_server.messages] == ["waiting@example.com"]
    assert Issue.objects.get().send_finished_at is None  # finished by the live sender
    assert not DBTaskResult.objects.exists()  # nothing queued for later: nothing is waiting


def test_outside_that_task_the_attempts_rows_wait_for_their_lease(mid_send, smtp_server):
    report = tasks.issue_send_again.call(
        mid_send.pk, 0
    )  # `newsletter send` by hand, or another task
    assert "sent 1," in report and "in doubt 0" in report
    assert statuses(mid_send)["held@example.com"] == DeliveryStatus.SENDING
