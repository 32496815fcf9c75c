"""Public forms on shared pages: cross-site posts refused by Fetch Metadata, no per-reader token."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from shipwith.votes.models import PairVote, Vote

pytestmark = pytest.mark.django_db

SAME_ORIGIN = {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "http://127.0.0.1:8000"}


@pytest.fixture
def browser(settings):
    """A client that enforces CSRF as a real deployment does."""
    settings.SHIPWITH_BASE_URL = "http://127.0.0.1:8000"
    settings.CSRF_TRUSTED_ORIGINS = ["https://www.shipwith.example"]
    return Client(enforce_csrf_checks=True)


def test_a_same_origin_vote_needs_no_token(browser, tools):
    assert browser.post("/tools/alpha/vote/", {"value": "ship"}, **SAME_ORIGIN).status_code == 302
    pair = browser.post("/compare/alpha-vs-beta/vote/", {"choice": "a"}, **SAME_ORIGIN)
    assert pair.status_code == 302
    assert Vote.objects.get().value == "ship" and PairVote.objects.get().choice == "a"


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_cross_site_vote_is_refused_and_counts_nothing(browser, tools, site):
    headers = {"HTTP_SEC_FETCH_SITE": site, "HTTP_ORIGIN": "https://evil.example"}
    for path, data in [
        ("/tools/alpha/vote/", {"value": "ship"}),
        ("/tools/alpha/vote/withdraw/", {}),
        ("/compare/alpha-vs-beta/vote/", {"choice": "a"}),
        ("/compare/alpha-vs-beta/vote/withdraw/", {}),
    ]:
        response = browser.post(path, data, **headers)
        assert response.status_code == 403, path
        assert b"CSRF" in response.content or b"Forbidden" in response.content
    assert not Vote.objects.exists() and not PairVote.objects.exists()


def test_a_cross_site_post_from_a_trusted_origin_is_accepted(browser, tools):
    headers = {"HTTP_SEC_FETCH_SITE": "same-site", "HTTP_ORIGIN": "https://www.shipwith.example"}
    assert browser.post("/tools/alpha/vote/", {"value": "ship"}, **headers).status_code == 302


def test_an_older_browser_is_judged_by_its_origin(browser, tools):
    own = browser.post("/tools/alpha/vote/", {"value": "ship"}, HTTP_ORIGIN="http://127.0.0.1:8000")
    assert own.status_code == 302
    trusted = Client(enforce_csrf_checks=True).post(
        "/tools/beta/vote/", {"value": "ship"}, HTTP_ORIGIN="https://www.shipwith.example"
    )
    assert trusted.status_code == 302
    for origin in ["https://evil.example", "null", "http://127.0.0.1:8001"]:
        refused = Client(enforce_csrf_checks=True).post(
            "/tools/gamma/vote/", {"value": "ship"}, HTTP_ORIGIN=origin
        )
        assert refused.status_code == 403, origin
    assert Vote.objects.count() == 2


def test_with_neither_header_the_token_decides(browser, tools):
    assert browser.post("/tools/alpha/vote/", {"value": "ship"}).status_code == 403
    page = browser.get("/tools/alpha/vote/")  # the reader's own vote page, never cached
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    ok = browser.post("/tools/alpha/vote/", {"value": "ship", "csrfmiddlewaretoken": token})
    assert ok.status_code == 302 and Vote.objects.count() == 1


def test_newsletter_sign_up_and_confirm_refuse_cross_site_posts(browser, settings, category):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    cross = {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://evil.example"}
    refused = browser.post("/newsletter/", {"email": "reader@example.com"}, **cross)
    assert refused.status_code == 403
    accepted = browser.post("/newsletter/", {"email": "reader@example.com"}, **SAME_ORIGIN)
    assert accepted.status_code == 302 and accepted["Location"].endswith("/check-your-inbox/")
    # A refused post never reaches the view; an accepted one does (and finds the link bad).
    assert browser.post("/newsletter/confirm/not-a-token/", **cross).status_code == 403
    assert browser.post("/newsletter/confirm/not-a-token/", **SAME_ORIGIN).status_code == 400


def test_the_admin_keeps_djangos_token(browser):
    get_user_model().objects.create_superuser("editor", "e@example.com", "pw")
    login = {"username": "editor", "password": "pw"}
    assert browser.post("/admin/login/", login, **SAME_ORIGIN).status_code == 403


def test_shared_pages_carry_no_token_and_set_no_cookie(tools, settings):
    from django.core.cache import cache

    cache.clear()
    response = Client().get("/tools/alpha/")
    assert response.status_code == 200
    assert "csrfmiddlewaretoken" not in response.text and "shipwith-csrf" not in response.text
    assert 'action="/tools/alpha/vote/"' in response.text
    assert 'action="/newsletter/"' in response.text
    assert "csrftoken" not in response.cookies
    assert response["Cache-Control"].startswith("public")
