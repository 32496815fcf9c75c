import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shipwith.newsletter import tasks
from shipwith.newsletter.models import Issue

pytestmark = pytest.mark.django_db


def queued_weekly():
    return DBTaskResult.objects.filter(task_path=tasks.WEEKLY_PATH, status="READY")


def test_next_run_is_the_coming_monday_morning():
    sunday = dt.datetime(2026, 11, 22, 23, 0, tzinfo=dt.UTC)
    monday_early = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
    monday_late = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
    assert tasks.next_weekly_run(sunday) == dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC)
    assert tasks.next_weekly_run(monday_early) == dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC)
    assert tasks.next_weekly_run(monday_late) == dt.datetime(2026, 11, 30, 7, tzinfo=dt.UTC)


def test_schedule_queues_one_weekly_send(run_command, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = run_command("newsletter", "schedule")
    with django_capture_on_commit_callbacks(execute=True):
        second = run_command("newsletter", "schedule")
    assert first == second
    [queued] = queued_weekly()
    assert queued.run_after == tasks.next_weekly_run()
    assert f"{queued.run_after:%Y-%m-%d %H:%M}" in first


def test_the_weekly_task_sends_last_week_and_queues_next_week(
    digest_week, smtp_server, make_subscriber
):
    make_subscriber("reader@example.com")
    result = tasks.newsletter_weekly.call()
    assert "sent 1" in result
    assert Issue.objects.get().slug == digest_week.slug
    assert len(smtp_server.messages) == 1
    assert queued_weekly().count() == 1


def test_signup_only_queues_the_confirmation(
    client, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/newsletter/", {"email": "queued@example.com"})
    assert response.status_code == 302
    assert smtp_server.messages == []  # the worker sends it; the request never waits on SMTP
    [queued] = DBTaskResult.objects.filter(task_path__endswith="confirmation_send")
    assert queued.args_kwargs["args"][0] == "queued@example.com"


def test_deferred_copies_get_a_later_round(digest_week, smtp_server, make_subscriber):
    make_subscriber("busy@example.com")
    smtp_server.replies["busy@example.com"] = ["452 4.2.2 Mailbox full"]
    from django.test import override_settings

    with override_settings(NEWSLETTER_SEND_RETRIES=0):
        assert "deferred 1" in tasks.newsletter_weekly.call()
    [again] = DBTaskResult.objects.filter(task_path__endswith="issue_send_again")
    assert again.run_after > timezone.now() + dt.timedelta(minutes=50)
    smtp_server.replies.clear()
    issue_id, round_number = again.args_kwargs["args"]
    assert "sent 1" in tasks.issue_send_again.call(issue_id, round_number)
    assert len(smtp_server.to("busy@example.com")) == 1
    assert DBTaskResult.objects.filter(task_path__endswith="issue_send_again").count() == 1
