"""A confirmation link works once: used again, or after a later unsubscribe, it does nothing."""

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client

from shipwith.catalog.models import Category
from shipwith.newsletter.links import CONFIRM_SALT, unsubscribe_url
from shipwith.newsletter.models import Subscriber, SubscriberStatus

from .conftest import local_path
from .test_subscribe import confirm_link, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def link(client, smtp_server, django_capture_on_commit_callbacks):
    """A fresh confirmation link for reader@example.com, for every category."""
    subscribe(client, "reader@example.com", capture=django_capture_on_commit_callbacks)
    return confirm_link(smtp_server.to("reader@example.com")[-1])


def test_a_used_link_does_nothing_the_second_time(client, link):
    assert "You're subscribed" in client.post(link).content.decode()
    confirmed_at = Subscriber.objects.get().confirmed_at
    again = Client().post(link)  # the same link, from another browser
    assert again.status_code == 410
    assert "This link was already used" in again.content.decode()
    assert Subscriber.objects.get().confirmed_at == confirmed_at


def test_a_link_cannot_undo_a_later_unsubscribe(client, link):
    client.post(link)
    subscriber = Subscriber.objects.get()
    client.post(local_path(unsubscribe_url(subscriber.pk)))
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED

    replay = Client().post(link)
    assert replay.status_code == 410
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED


def test_an_unused_link_older_than_an_unsubscribe_does_nothing(
    client, smtp_server, make_subscriber, django_capture_on_commit_callbacks
):
    subscriber = make_subscriber("reader@example.com")
    subscribe(client, "reader@example.com", capture=django_capture_on_commit_callbacks)
    stale = confirm_link(smtp_server.to("reader@example.com")[-1])
    client.post(local_path(unsubscribe_url(subscriber.pk)))
    assert client.post(stale).status_code == 410
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED


def test_a_newer_link_resubscribes_and_an_older_one_is_spent(
    client, smtp_server, link, django_capture_on_commit_callbacks
):
    client.post(link)
    subscriber = Subscriber.objects.get()
    client.post(local_path(unsubscribe_url(subscriber.pk)))
    cache.clear()  # past the confirmation cooldown
    vectors = Category.objects.create(name="Vector databases", slug="vector-databases")
    subscribe(client, "reader@example.com", [vectors], django_capture_on_commit_callbacks)
    newer = confirm_link(smtp_server.to("reader@example.com")[-1])
    assert newer != link
    assert "You're subscribed" in client.post(newer).content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.CONFIRMED
    assert list(subscriber.categories.all()) == [vectors]
    assert client.post(link).status_code == 410
    assert list(Subscriber.objects.get().categories.all()) == [vectors]


def test_a_link_mailed_before_the_upgrade_still_works_once(client, settings):
    # Old links carried no issue time: the signature's own timestamp stands in for it.
    token = signing.dumps({"e": "old@example.com", "c": []}, salt=CONFIRM_SALT, compress=True)
    path = f"/newsletter/confirm/{token}/"
    assert "You're subscribed" in client.post(path).content.decode()
    assert client.post(path).status_code == 410
    assert Subscriber.objects.get().email == "old@example.com"
