"""The issue's "done when": subscribe on a page, confirm, get the digest once, leave in one click."""

import re

import pytest
from django.test import Client

from shipwith.newsletter.models import Subscriber

from .conftest import local_path

pytestmark = pytest.mark.django_db


def test_a_new_reader_subscribes_confirms_reads_once_and_leaves_in_one_click(
    settings, smtp_server, digest_week, run_command, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    browser = Client(enforce_csrf_checks=True)

    # The sign-up form in the footer of any page: shared, so no token; the browser says the
    # post comes from the site itself (Fetch Metadata).
    page = browser.get("/newsletter/archive/").content.decode()
    assert 'action="/newsletter/"' in page and "csrfmiddlewaretoken" not in page
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(
            "/newsletter/", {"email": "new@example.com"}, HTTP_SEC_FETCH_SITE="same-origin"
        )
    assert run_command("newsletter", "send", "--week", digest_week.slug).startswith(
        f"{digest_week.slug}: sent 0"
    )  # not confirmed yet: nothing goes out
    [confirmation] = smtp_server.to("new@example.com")

    link = local_path(re.search(r"https://\S+/confirm/\S+/", confirmation.get_content())[0])
    page = browser.get(link).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    browser.post(link, {"csrfmiddlewaretoken": token})

    # The week's digest: this issue was already sent once, and the new reader still gets it.
    run_command("newsletter", "send", "--week", digest_week.slug)
    run_command("newsletter", "send", "--week", digest_week.slug)
    [confirmation, digest] = smtp_server.to("new@example.com")
    assert "vLLM vs TGI" in digest.get_body(("plain",)).get_content()

    unsubscribe = local_path(digest["List-Unsubscribe"].strip().strip("<>"))
    Client(enforce_csrf_checks=True).post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert Subscriber.objects.get().status == "unsubscribed"
