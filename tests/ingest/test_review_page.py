"""A candidate's review page: what it is, where it was seen, what it changes, the tools it
may duplicate, and accept / reject / merge that go on to the next candidate."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from shipwith.catalog.models import Tool, Vendor
from shipwith.ingest.models import Candidate, Status
from shipwith.ingest.run import items_ingest
from tests.ingest.conftest import make_item

pytestmark = pytest.mark.django_db

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="alert(1)">'


def review_url(candidate: Candidate) -> str:
    return f"/admin/ingest/candidate/{candidate.pk}/review/"


@pytest.fixture
def olmo(categories, make_source) -> Candidate:
    """A new open-weight model seen on the Hub (with its page) and on Hacker News."""
    seen = timezone.now() - dt.timedelta(days=3)
    items_ingest(
        source=make_source("hf-hub", "huggingface"),
        items=[
            make_item(
                "OLMo-2-1124-13B-Instruct",
                key="allenai/OLMo-2-1124-13B-Instruct",
                vendor="allenai",
                huggingface="allenai/OLMo-2-1124-13B-Instruct",
                licence="Apache-2.0",
                licence_kind="open_weights",
                context_window=4096,
                description="A fully open 13B language model from Ai2.",
                page_text="OLMo 2 13B Instruct is a post-trained variant of OLMo 2 13B.",
                url="https://huggingface.co/allenai/OLMo-2-1124-13B-Instruct",
                seen_at=seen,
            )
        ],
    )
    items_ingest(
        source=make_source("show-hn", "hackernews"),
        items=[
            make_item(
                "OLMo-2-1124-13B-Instruct",
                key="4242",
                vendor="allenai",
                huggingface="allenai/OLMo-2-1124-13B-Instruct",
                url="https://news.ycombinator.com/item?id=4242",
                seen_at=seen + dt.timedelta(days=1),
            )
        ],
    )
    return Candidate.objects.get(name="OLMo-2-1124-13B-Instruct")


@pytest.fixture
def olmo_catalog(categories) -> Tool:
    """A catalog tool near OLMo's name that dedupe rightly keeps apart (another size)."""
    return Tool.objects.create(
        name="OLMo 2 7B",
        slug="olmo-2-7b",
        vendor=Vendor.objects.create(name="Ai2", slug="ai2"),
        category=categories["open-weight-models"],
    )


def test_the_page_shows_what_it_is_its_mentions_facts_and_nearest_tools(
    admin_client, olmo, olmo_catalog
):
    page = admin_client.get(review_url(olmo)).content.decode()
    assert "<h1>OLMo-2-1124-13B-Instruct</h1>" in page
    assert "allenai" in page and "A fully open 13B language model from Ai2." in page
    assert "OLMo 2 13B Instruct is a post-trained variant" in page  # the page's snippet
    assert "Open-weight models" in page  # the proposed category
    # Both mentions, each a link with its date.
    day = (timezone.now() - dt.timedelta(days=3)).strftime("%-d %b %Y")
    assert 'href="https://huggingface.co/allenai/OLMo-2-1124-13B-Instruct"' in page
    assert 'href="https://news.ycombinator.com/item?id=4242"' in page
    assert day in page
    # Facts as a table of words, never JSON.
    assert "4,096 tokens" in page and "Apache-2.0" in page and "Open weights" in page
    assert '"licence"' not in page and "{&quot;" not in page
    # The near tool, its similarity and why it is not this one.
    assert "OLMo 2 7B" in page
    assert "below the 90% threshold" in page or "different numbers" in page


def test_an_update_shows_its_changes_as_old_to_new(admin_client, gpt4o_mini, make_source):
    items_ingest(
        source=make_source(),
        items=[
            make_item(
                "OpenAI: GPT-4o-mini",
                key="openai/gpt-4o-mini",
                openrouter="openai/gpt-4o-mini",
                input_price_per_mtok=Decimal("0.2"),
            )
        ],
    )
    update = Candidate.objects.get(status=Status.UPDATE)
    page = admin_client.get(review_url(update)).content.decode()
    assert "<del>$0.15 per 1M input tokens</del> → <ins>$0.2 per 1M input tokens</ins>" in page
    assert "the catalog tool this candidate is matched to" in page
    assert "Accept: apply the changes" in page


def test_accepting_with_a_category_creates_the_tool_and_opens_the_next_candidate(
    admin_client, olmo, categories, make_source
):
    items_ingest(source=make_source("hn", "hackernews"), items=[make_item("Zorblax", key="9")])
    zorblax = Candidate.objects.get(name="Zorblax")
    response = admin_client.post(
        review_url(olmo), {"decision": "accept", "category": "hosted-models"}
    )
    assert response.status_code == 302 and response["Location"] == review_url(zorblax)
    tool = Tool.objects.get(name="OLMo-2-1124-13B-Instruct")
    assert tool.category.slug == "hosted-models"
    olmo.refresh_from_db()
    assert olmo.status == Status.ACCEPTED and olmo.tool == tool
    assert LogEntry.objects.filter(object_id=str(olmo.pk)).exists()
    page = admin_client.get(response["Location"]).content.decode()
    assert "Accepted “OLMo-2-1124-13B-Instruct”" in page


def test_rejecting_keeps_the_reason_and_the_last_one_returns_to_the_queue(admin_client, olmo):
    response = admin_client.post(
        review_url(olmo), {"decision": "reject", "reason": "A fine-tune, not a tool."}
    )
    assert response["Location"] == "/admin/ingest/candidate/review/"
    olmo.refresh_from_db()
    assert olmo.status == Status.REJECTED
    assert olmo.rejection_reason == "A fine-tune, not a tool."
    assert "Nothing to decide here." in admin_client.get(response["Location"]).content.decode()


def test_merging_links_the_candidate_to_the_tool(admin_client, olmo, olmo_catalog):
    response = admin_client.post(
        review_url(olmo), {"decision": "merge", "tool": str(olmo_catalog.pk)}
    )
    assert response.status_code == 302
    olmo.refresh_from_db()
    assert olmo.status == Status.ACCEPTED and olmo.tool == olmo_catalog
    olmo_catalog.refresh_from_db()
    assert olmo_catalog.huggingface_id == "allenai/olmo-2-1124-13b-instruct"
    assert Tool.objects.count() == 1


def test_merging_by_slug_and_an_unknown_slug(admin_client, olmo, olmo_catalog):
    response = admin_client.post(
        review_url(olmo), {"decision": "merge", "tool_slug": "no-such-tool"}, follow=True
    )
    assert response.status_code == 200
    assert "No catalog tool has the slug" in response.content.decode()
    admin_client.post(review_url(olmo), {"decision": "merge", "tool_slug": "olmo-2-7b"})
    assert Candidate.objects.get(pk=olmo.pk).tool == olmo_catalog


def test_a_refused_decision_is_a_message_not_an_error_page(admin_client, make_source):
    # No category fits a name alone, and none is chosen: the service refuses to accept it.
    items_ingest(source=make_source("hn", "hackernews"), items=[make_item("Zorblax", key="1")])
    zorblax = Candidate.objects.get()
    assert zorblax.category is None
    response = admin_client.post(review_url(zorblax), {"decision": "accept"}, follow=True)
    assert response.status_code == 200
    assert "has no proposed category" in response.content.decode()
    response = admin_client.post(review_url(zorblax), {"decision": "reject"}, follow=True)
    assert "a rejection needs a reason" in response.content.decode()
    assert Candidate.objects.get().status == Status.NEW
    # Deciding twice (another editor was quicker) says so too.
    admin_client.post(review_url(zorblax), {"decision": "reject", "reason": "spam"})
    response = admin_client.post(review_url(zorblax), {"decision": "reject", "reason": "x"})
    page = admin_client.get(response["Location"]).content.decode()
    assert "is already rejected" in page


def test_untrusted_text_is_escaped_and_only_http_links_are_links(admin_client, make_source):
    items_ingest(
        source=make_source("feed", "feed"),
        items=[
            make_item(
                f"Evil {HOSTILE}",
                key="evil",
                vendor=HOSTILE,
                description=f"Try it {HOSTILE}",
                page_text=f"Page {HOSTILE}",
                url="javascript:alert(1)",
            )
        ],
    )
    candidate = Candidate.objects.get()
    page = admin_client.get(review_url(candidate)).content.decode()
    assert "<script>window.__pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert 'href="javascript:' not in page
    listing = admin_client.get("/admin/ingest/candidate/review/").content.decode()
    assert "<script>window.__pwned" not in listing and "&lt;script&gt;" in listing


def test_only_editors_who_may_change_candidates_see_the_queue(client, olmo):
    urls = ["/admin/ingest/candidate/review/", review_url(olmo)]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    reader = User.objects.create_user("reader", password="x")
    client.force_login(reader)
    for url in urls:
        assert "/admin/login/" in client.get(url)["Location"]
    staff = User.objects.create_user("staff", password="x", is_staff=True)
    client.force_login(staff)
    for url in urls:
        assert client.get(url).status_code == 403
    response = client.post(review_url(olmo), {"decision": "reject", "reason": "no"})
    assert response.status_code == 403
    assert Candidate.objects.get(pk=olmo.pk).status == Status.NEW
    staff.user_permissions.add(Permission.objects.get(codename="change_candidate"))
    staff = User.objects.get(pk=staff.pk)  # permissions are cached on the instance
    client.force_login(staff)
    for url in urls:
        assert client.get(url).status_code == 200


def test_a_post_without_the_csrf_token_is_refused(olmo):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_superuser("editor", password="x"))
    response = client.post(review_url(olmo), {"decision": "reject", "reason": "no"})
    assert response.status_code == 403
    assert Candidate.objects.get(pk=olmo.pk).status == Status.NEW


def test_the_admin_links_to_the_review_pages(admin_client, olmo):
    listing = admin_client.get("/admin/ingest/candidate/").content.decode()
    assert 'href="/admin/ingest/candidate/review/"' in listing
    assert f'href="{review_url(olmo)}"' in listing
    change = admin_client.get(f"/admin/ingest/candidate/{olmo.pk}/change/").content.decode()
    assert f'href="{review_url(olmo)}"' in change
