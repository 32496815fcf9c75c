import pytest
from django.core.management.base import CommandError

from shipwith.newsletter import sending
from shipwith.newsletter.issues import issue_compose
from shipwith.newsletter.models import Delivery, DeliveryStatus, Subscriber, SubscriberStatus
from shipwith.newsletter.sending import issue_send

from .conftest import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(digest_week):
    return issue_compose(week=digest_week)


def statuses() -> dict[str, str]:
    return dict(Delivery.objects.values_list("subscriber__email", "status"))


def test_many_messages_share_one_connection(issue, smtp_server, make_subscriber):
    for n in range(5):
        make_subscriber(f"r{n}@example.com")
    assert issue_send(issue_id=issue.pk).sent == 5
    assert smtp_server.sessions == 1


def test_temporary_refusals_are_retried_with_backoff(issue, smtp_server, make_subscriber):
    make_subscriber("greylisted@example.com")
    smtp_server.replies["greylisted@example.com"] = ["451 4.7.1 Greylisted, try later"] * 2 + [
        "250 OK"
    ]
    waits = []
    report = issue_send(issue_id=issue.pk, sleep=waits.append)
    assert report.sent == 1
    assert len(smtp_server.to("greylisted@example.com")) == 1
    assert Delivery.objects.get().attempts == 3
    assert len(waits) == 2 and waits[1] > waits[0]  # exponential backoff


def test_permanent_refusal_marks_the_address_and_the_send_goes_on(
    issue, smtp_server, make_subscriber
):
    make_subscriber("a-gone@example.com")
    make_subscriber("b-fine@example.com")
    smtp_server.replies["a-gone@example.com"] = ["550 5.1.1 No such user"]
    report = issue_send(issue_id=issue.pk, sleep=lambda s: None)
    assert (report.sent, report.bounced) == (1, 1)
    assert smtp_server.rcpt_attempts["a-gone@example.com"] == 1  # never retried
    gone = Subscriber.objects.get(email="a-gone@example.com")
    assert gone.status == SubscriberStatus.BOUNCED
    assert "550" in gone.bounce_reason
    assert len(smtp_server.to("b-fine@example.com")) == 1


def test_deferred_deliveries_are_retried_by_the_next_send(issue, smtp_server, make_subscriber):
    make_subscriber("busy@example.com")
    smtp_server.replies["busy@example.com"] = ["452 4.2.2 Mailbox full"]
    report = issue_send(issue_id=issue.pk, sleep=lambda s: None)
    assert report.deferred == 1
    assert statuses() == {"busy@example.com": DeliveryStatus.DEFERRED}
    smtp_server.replies.clear()
    assert issue_send(issue_id=issue.pk).sent == 1
    assert len(smtp_server.to("busy@example.com")) == 1


def test_unreachable_server_stops_the_send_and_a_later_run_resumes(
    issue, smtp_server, make_subscriber, settings, run_command
):
    for n in range(3):
        make_subscriber(f"r{n}@example.com")
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there
    with pytest.raises(CommandError, match="mail server unreachable"):
        run_command("newsletter", "send", "--week", issue.slug)
    assert set(statuses().values()) == {DeliveryStatus.PENDING}
    settings.EMAIL_PORT = working_port
    assert "sent 3" in run_command("newsletter", "send", "--week", issue.slug)
    assert len(smtp_server.messages) == 3


def test_connection_lost_after_the_body_went_out_is_never_resent(
    issue, smtp_server, make_subscriber
):
    make_subscriber("a-doubt@example.com")
    make_subscriber("b-fine@example.com")
    smtp_server.drop_during_data.add("a-doubt@example.com")
    report = issue_send(issue_id=issue.pk, sleep=lambda s: None)
    assert (report.sent, report.in_doubt) == (1, 1)
    assert statuses()["a-doubt@example.com"] == DeliveryStatus.IN_DOUBT
    smtp_server.drop_during_data.clear()
    issue_send(issue_id=issue.pk)
    assert len(smtp_server.to("a-doubt@example.com")) == 1
    assert len(smtp_server.to("b-fine@example.com")) == 1


def test_a_crash_between_smtp_accept_and_the_database_write(
    issue, smtp_server, make_subscriber, monkeypatch, settings
):
    for n in range(6):
        make_subscriber(f"r{n}@example.com")
    real_mark, marked = sending.delivery_mark, []

    def crash_on_third(delivery, status, **kwargs):
        if status == DeliveryStatus.SENT and len(marked) == 2:
            raise RuntimeError("power cut")
        marked.append(delivery.pk)
        return real_mark(delivery, status, **kwargs)

    monkeypatch.setattr(sending, "delivery_mark", crash_on_third)
    with pytest.raises(RuntimeError):
        issue_send(issue_id=issue.pk, batch_size=4)
    monkeypatch.setattr(sending, "delivery_mark", real_mark)

    settings.NEWSLETTER_CLAIM_LEASE = 0  # the crashed run's lease has run out
    report = issue_send(issue_id=issue.pk)
    assert report.recovered_in_doubt == 1
    assert report.sent == 3
    for n in range(6):
        assert len(smtp_server.to(f"r{n}@example.com")) == 1, n
    assert list(statuses().values()).count(DeliveryStatus.IN_DOUBT) == 1


class ProviderBackend:
    """A django-anymail style backend whose provider answers as told, per address."""

    answers: dict = {}
    sent: list = []

    def __init__(self, **kwargs):
        pass

    def open(self):
        return False

    def close(self):
        pass

    def send_messages(self, messages):
        from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused

        for message in messages:
            answer = self.answers.get(message.to[0])
            if answer == "refused":
                raise AnymailRecipientsRefused("recipient refused")
            if answer == "timeout":
                raise AnymailAPIError("read timed out")
            if isinstance(answer, int):
                import requests

                response = requests.Response()
                response.status_code, response.reason, response._content = answer, "Busy", b"{}"
                raise AnymailAPIError("provider error", status_code=answer, response=response)
            self.sent.append(message)
        return len(messages)


def test_provider_backends_get_the_same_treatment(issue, make_subscriber, settings):
    settings.EMAIL_BACKEND = f"{__name__}.ProviderBackend"
    settings.SHIPWITH_BASE_URL = "https://shipwith.test"
    for name in ["fine", "refused", "timeout", "busy"]:
        make_subscriber(f"{name}@example.com")
    ProviderBackend.answers = {
        "refused@example.com": "refused",
        "timeout@example.com": "timeout",
        "busy@example.com": 503,
    }
    ProviderBackend.sent = []
    report = issue_send(issue_id=issue.pk, sleep=lambda s: None)
    assert (report.sent, report.bounced, report.in_doubt, report.deferred) == (1, 1, 1, 1)
    [message] = ProviderBackend.sent
    assert message.to == ["fine@example.com"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.alternatives[0][1] == "text/html"
    assert statuses()["refused@example.com"] == DeliveryStatus.BOUNCED


def test_a_sender_that_loses_the_race_for_a_batch_claims_the_next_one(
    issue, smtp_server, make_subscriber
):
    """Another sender claims the rows this one just read, before this one's UPDATE lands.

    This sender must go on to the rows still pending, not conclude that nothing is left (seen
    in CI: of two senders started together, one sent 0 and the other everything).
    """
    from django.db import connection

    for n in range(4):
        make_subscriber(f"r{n}@example.com")
    raced = []

    def rival_claims_first(execute, sql, params, many, context):
        if not raced and sql.startswith("UPDATE") and DeliveryStatus.SENDING in (params or ()):
            raced.append(True)
            # The rival takes the two lowest pending rows: the ones this sender just read.
            rows = Delivery.objects.filter(status=DeliveryStatus.PENDING).order_by("pk")[:2]
            Delivery.objects.filter(pk__in=list(rows.values_list("pk", flat=True))).update(
                status=DeliveryStatus.SENDING, claim="rival"
            )
        return execute(sql, params, many, context)

    with connection.execute_wrapper(rival_claims_first):
        report = issue_send(issue_id=issue.pk, batch_size=2)
    assert raced
    assert report.sent == 2
    assert [m.rcpt_tos for m in smtp_server.messages] == [["r2@example.com"], ["r3@example.com"]]
    claims = dict(Delivery.objects.values_list("subscriber__email", "claim"))
    assert claims["r0@example.com"] == claims["r1@example.com"] == "rival"
