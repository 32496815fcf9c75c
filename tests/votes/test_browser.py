"""A reader votes in Chromium: with JavaScript (no reload) and without (form POST + redirect)."""

import pytest

from shipwith.catalog.models import Category, Tool
from tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(site):
    # After `site`: Playwright's sync API runs an event loop, where the ORM refuses to work.
    with chromium() as browser:
        yield browser


@pytest.fixture
def site(live_server, settings):
    settings.SHIPWITH_VOTES_MIN = 1
    category = Category.objects.create(name="Inference servers", slug="inference-servers")
    for name, slug in [("Alpha Serve", "alpha"), ("Beta", "beta")]:
        Tool.objects.create(name=name, slug=slug, category=category)
    return live_server.url


def watch(page) -> list[str]:
    """Collect script errors, CSP violations and failed requests (the favicon aside)."""
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_voting_with_javascript_updates_the_page_without_a_reload(browser, site):
    page = browser.new_page()
    errors = watch(page)
    page.goto(f"{site}/tools/alpha/vote/")
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="Ship").click()
    page.get_by_text("Your vote: ship.").wait_for()
    assert page.locator(".community-figure").first.inner_text().startswith("100%")
    page.get_by_role("button", name="Skip").click()
    page.get_by_text("Your vote: skip.").wait_for()
    assert "0 of 1 ship" in page.locator(".community-figure").first.inner_text()
    page.get_by_role("button", name="Withdraw my vote").click()
    page.get_by_text("You have not voted on Alpha Serve.").wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert page.get_by_role("button", name="Skip").get_attribute("aria-pressed") == "false"

    page.goto(f"{site}/compare/alpha-vs-beta/vote/")
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="Beta").click()
    page.get_by_text("You would ship with Beta.").wait_for()
    assert "Beta 1" in page.locator("[data-votes-split]").inner_text()
    assert page.evaluate("window.notReloaded") is True
    assert errors == []


def test_shared_pages_fill_in_the_readers_own_vote(browser, site):
    page = browser.new_page()
    errors = watch(page)
    page.goto(f"{site}/tools/alpha/vote/")
    page.get_by_role("button", name="Ship").click()
    page.get_by_text("Your vote: ship.").wait_for()
    # The tool page is shared by every reader; votes.js asks for this reader's vote.
    response = page.goto(f"{site}/tools/alpha/")
    assert response.status == 200
    page.get_by_text("Your vote: ship.").wait_for()
    page.get_by_role("button", name="Skip").click()
    page.get_by_text("Your vote: skip.").wait_for()
    assert errors == []


def test_voting_without_javascript_posts_and_comes_back(browser, site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site}/tools/alpha/vote/")
    page.get_by_role("button", name="Ship").click()
    page.wait_for_url("**/tools/alpha/vote/?voted=alpha#vote-alpha")
    assert page.get_by_text("Your vote: ship.").is_visible()
    assert "1 of 1 ship" in page.locator(".community-figure").first.inner_text()
    context.close()
