import re

import pytest
from django.template import engines
from django.test import Client

from shipwith.catalog.models import Category
from shipwith.newsletter.models import Subscriber, SubscriberStatus

from .conftest import local_path

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings):
    """Run queued tasks in-process (the database worker closes the test's connection)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def subscribe(client, email, categories=(), capture=None):
    data = {"email": email, "categories": [c.pk for c in categories]}
    with capture(execute=True):
        response = client.post("/newsletter/", data)
    return response


def without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def confirm_link(message) -> str:
    match = re.search(r"https://shipwith\.test/newsletter/confirm/\S+/", message.get_content())
    assert match, message.get_content()
    return local_path(match[0])


def test_signup_confirm_and_categories(client, smtp_server, django_capture_on_commit_callbacks):
    vectors = Category.objects.create(name="Vector databases", slug="vector-databases")
    response = subscribe(
        client, " Reader@Example.com ", [vectors], django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    assert response["Location"] == "/newsletter/check-your-inbox/"
    assert "Check your inbox" in client.get(response["Location"]).content.decode()

    # Nothing is stored, and nothing but the confirmation goes out, until the link is used.
    assert not Subscriber.objects.exists()
    [message] = smtp_server.to("reader@example.com")
    assert message["Subject"] == "Confirm your subscription to Weekly AI tool verdicts"
    assert "Vector databases" in message.get_content()

    link = confirm_link(message)
    page = client.get(link)
    assert page.status_code == 200
    assert "reader@example.com" in page.content.decode()
    assert not Subscriber.objects.exists(), "a GET (a link scanner) must not confirm"

    done = client.post(link)
    assert "You're subscribed" in done.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "reader@example.com"
    assert subscriber.status == SubscriberStatus.CONFIRMED
    assert list(subscriber.categories.all()) == [vectors]


def test_the_response_never_tells_whether_an_address_is_subscribed(
    client, smtp_server, make_subscriber, django_capture_on_commit_callbacks
):
    make_subscriber("known@example.com")
    known = subscribe(client, "known@example.com", capture=django_capture_on_commit_callbacks)
    unknown = subscribe(client, "stranger@example.com", capture=django_capture_on_commit_callbacks)
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert without_csrf(client.get(known["Location"])) == without_csrf(
        client.get(unknown["Location"])
    )
    # Both owners get a confirmation link; for the subscriber it updates their categories.
    assert len(smtp_server.to("known@example.com")) == 1
    assert len(smtp_server.to("stranger@example.com")) == 1


def test_resubmitting_within_the_cooldown_sends_one_email(
    client, smtp_server, django_capture_on_commit_callbacks
):
    for _ in range(3):
        response = subscribe(
            client, "eager@example.com", capture=django_capture_on_commit_callbacks
        )
        assert response.status_code == 302
    assert len(smtp_server.to("eager@example.com")) == 1


@pytest.mark.parametrize(
    "bad", ["", "not-an-address", "a@b@c.com", "x@example.com\r\nBcc: y@z.com"]
)
def test_malformed_addresses_are_refused_without_email(
    client, smtp_server, bad, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/newsletter/", {"email": bad})
    assert response.status_code == 400
    assert "Enter a valid email address" in response.content.decode() or not bad
    assert callbacks == []
    assert smtp_server.messages == []


def test_tampered_or_expired_links_are_refused(
    client, smtp_server, settings, django_capture_on_commit_callbacks
):
    subscribe(client, "late@example.com", capture=django_capture_on_commit_callbacks)
    link = confirm_link(smtp_server.to("late@example.com")[0])
    assert client.get(link[:-3] + "xx/").status_code == 400
    settings.NEWSLETTER_CONFIRM_MAX_AGE = -1
    response = client.post(link)
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_unsubscribe_twice_then_resubscribe(
    client, smtp_server, make_subscriber, django_capture_on_commit_callbacks
):
    from shipwith.newsletter.links import unsubscribe_url

    subscriber = make_subscriber("fickle@example.com")
    path = local_path(unsubscribe_url(subscriber.pk))
    page = client.get(path)
    assert "Unsubscribe from Weekly AI tool verdicts?" in page.content.decode()
    assert Subscriber.objects.get().status == SubscriberStatus.CONFIRMED

    first, second = client.post(path), client.post(path)
    assert without_csrf(first) == without_csrf(second)
    assert "You're unsubscribed" in second.content.decode()
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED

    subscribe(client, "fickle@example.com", capture=django_capture_on_commit_callbacks)
    client.post(confirm_link(smtp_server.to("fickle@example.com")[0]))
    assert Subscriber.objects.get().status == SubscriberStatus.CONFIRMED


def test_one_click_unsubscribe_needs_no_csrf_token(make_subscriber, settings):
    from shipwith.newsletter.links import unsubscribe_url

    settings.SHIPWITH_BASE_URL = "https://shipwith.test"
    subscriber = make_subscriber("oneclick@example.com")
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        local_path(unsubscribe_url(subscriber.pk)), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED
    assert strict.post("/newsletter/unsubscribe/1:forged/").status_code == 400


def test_signup_form_on_any_page_carries_nothing_per_reader(rf):
    # Pages are cached and shared: the sign-up view checks Fetch Metadata instead of a token.
    request = rf.get("/")
    template = engines["django"].from_string("{% load newsletter %}{% newsletter_signup %}")
    html = template.render({"csrf_token": "a-readers-token"}, request)
    assert 'action="/newsletter/"' in html
    assert "csrfmiddlewaretoken" not in html and "a-readers-token" not in html
    assert 'type="email"' in html


def test_one_client_cannot_mail_a_crowd(
    client, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.NEWSLETTER_SIGNUP_RATE = "3/h"
    codes = [
        subscribe(
            client, f"victim{n}@example.com", capture=django_capture_on_commit_callbacks
        ).status_code
        for n in range(5)
    ]
    assert codes == [302, 302, 302, 429, 429]
    assert len(smtp_server.messages) == 3
