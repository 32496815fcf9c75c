"""A reader in Debian's chromium subscribes from a page's footer, confirms, and unsubscribes."""

import re

import pytest

from shipwith.newsletter.models import Subscriber
from tests.browser import AXE, chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def site(live_server, smtp_server, settings):
    settings.SHIPWITH_BASE_URL = live_server.url
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return live_server.url


def test_subscribe_from_the_footer_confirm_and_unsubscribe(site, browser, smtp_server):
    context = browser.new_context()
    page = context.new_page()
    refused = []
    page.on("console", lambda m: "Content Security Policy" in m.text and refused.append(m.text))

    page.goto(site + "/newsletter/archive/")
    footer = page.locator(".newsletter-signup")
    footer.get_by_label("Email address").fill("browser@example.com")
    footer.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/newsletter/check-your-inbox/")
    assert page.locator("h1").inner_text() == "Check your inbox"

    [message] = smtp_server.to("browser@example.com")
    link = re.search(r"http://\S+/newsletter/confirm/\S+/", message.get_content())[0]
    page.goto(link)
    page.get_by_role("button", name="Confirm subscription").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "You're subscribed"
    assert Subscriber.objects.get().status == "confirmed"

    page.get_by_role("link", name="Unsubscribe").click()
    page.get_by_role("button", name="Unsubscribe").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "You're unsubscribed"
    assert Subscriber.objects.get().status == "unsubscribed"
    assert refused == []
    context.close()


@pytest.mark.parametrize("path", ["/newsletter/", "/newsletter/archive/"])
def test_axe_finds_no_serious_violations(site, browser, path):
    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    page.goto(site + path)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    context.close()
    serious = [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
