import datetime as dt

import pytest
from django.test import Client

from shipwith.catalog.models import Category
from shipwith.newsletter.issues import issue_compose
from shipwith.newsletter.models import Delivery, DeliveryStatus, Issue, Subscriber
from shipwith.newsletter.selectors import items_for, week_items
from shipwith.newsletter.sending import issue_send

from .conftest import local_path

pytestmark = pytest.mark.django_db


def test_week_items_are_ranked_and_keep_untrusted_text(digest_week):
    items = week_items(digest_week)
    # Decided first (the verdict change), then comparisons: vLLM (4/4 ship) vs TGI (0/4)
    # splits the panel, above the later pair on which both panels agree.
    assert [item["title"] for item in items] == ["Qdrant", "vLLM vs TGI", "Chroma vs Qdrant"]
    assert items[1]["sides"] == [
        {"tool": "vLLM", "panel": "panel 4 of 4 ship", "community": ""},
        {"tool": "TGI", "panel": "panel 0 of 4 ship", "community": ""},
    ]
    assert items[2]["sides"][1]["panel"] == "panel 3 of 4 ship"
    assert items[0]["changes"] == [{"persona": "Skeptic", "before": "Ship", "after": "Skip"}]
    vectors = frozenset({"vector-databases"})
    assert [item["title"] for item in items_for(items, vectors)] == ["Qdrant", "Chroma vs Qdrant"]


def test_reader_votes_lift_an_item_and_show_in_the_digest(digest_week):
    from shipwith.catalog.models import Tool
    from shipwith.votes.models import PairTally, ToolTally

    chroma, qdrant = Tool.objects.get(slug="chroma"), Tool.objects.get(slug="qdrant")
    ToolTally.objects.create(tool=qdrant, ships=30, skips=10)
    PairTally.objects.create(tool_a=chroma, tool_b=qdrant, a=5, b=20)
    items = week_items(digest_week)
    assert [item["title"] for item in items] == ["Qdrant", "Chroma vs Qdrant", "vLLM vs TGI"]
    assert items[1]["sides"][1]["community"] == "community 75% ship (40 votes)"
    assert items[1]["sides"][0]["community"] == ""  # no votes: no figure, never "0%"
    assert items[0]["community"] == "community 75% ship (40 votes)"


def test_items_outside_the_week_are_left_out(digest_week, make_tool, make_comparison):
    make_comparison(
        make_tool("Old A"), make_tool("Old B"), digest_week.start - dt.timedelta(seconds=1)
    )
    make_comparison(make_tool("New A"), make_tool("New B"), digest_week.end)
    assert len(week_items(digest_week)) == 3


def test_a_week_with_nothing_new_makes_no_issue(week):
    assert issue_compose(week=week) is None
    assert not Issue.objects.exists()


def test_digest_delivered_once_with_both_parts_and_unsubscribe_headers(
    digest_week, smtp_server, make_subscriber, run_command
):
    reader = make_subscriber("reader@example.com")
    make_subscriber("second@example.com")

    output = run_command("newsletter", "send", "--week", digest_week.slug)
    assert "sent 2, bounced 0" in output
    [message] = smtp_server.to("reader@example.com")
    assert message["Subject"].startswith("Weekly AI tool verdicts, week")
    assert "2 new comparisons, 1 verdict change" in message["Subject"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip().strip("<>")
    assert unsubscribe.startswith("https://shipwith.test/newsletter/unsubscribe/")

    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "vLLM vs TGI" in text and "https://shipwith.test/compare/" in text
    assert unsubscribe in text and unsubscribe in html
    assert "vLLM wins on <throughput>." in text
    assert "vLLM wins on &lt;throughput&gt;." in html  # escaped, never marked safe
    assert "<style" not in html and 'style="' in html  # CSS inlined
    assert "https://shipwith.test/newsletter/archive/" in html

    # A second run finds every delivery done and sends nothing.
    assert "sent 0" in run_command("newsletter", "send", "--week", digest_week.slug)
    assert len(smtp_server.to("reader@example.com")) == 1
    assert Delivery.objects.get(subscriber=reader).status == DeliveryStatus.SENT
    assert Issue.objects.get().send_finished_at is not None

    # The reader clicks "unsubscribe" in their mail client: RFC 8058 one-click POST.
    response = Client(enforce_csrf_checks=True).post(
        local_path(unsubscribe), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert Subscriber.objects.get(pk=reader.pk).status == "unsubscribed"


def test_each_reader_gets_only_their_categories(digest_week, smtp_server, make_subscriber):
    vectors = Category.objects.get(slug="vector-databases")
    make_subscriber("vectors@example.com", [vectors])
    make_subscriber("everything@example.com")
    issue_send(issue_id=issue_compose(week=digest_week).pk)
    [narrow] = smtp_server.to("vectors@example.com")
    [wide] = smtp_server.to("everything@example.com")
    assert "vLLM vs TGI" not in narrow.get_body(("plain",)).get_content()
    assert "Chroma vs Qdrant" in narrow.get_body(("plain",)).get_content()
    assert "vLLM vs TGI" in wide.get_body(("plain",)).get_content()
    assert "1 new comparison, 1 verdict change" in narrow["Subject"]


def test_nothing_in_their_categories_means_no_email(digest_week, smtp_server, make_subscriber):
    quiet = Category.objects.create(name="Agent frameworks", slug="agent-frameworks")
    make_subscriber("agents@example.com", [quiet])
    report = issue_send(issue_id=issue_compose(week=digest_week).pk)
    assert (report.sent, report.skipped) == (0, 1)
    assert smtp_server.messages == []


def test_unconfirmed_or_unsubscribed_addresses_get_nothing(
    digest_week, smtp_server, make_subscriber
):
    gone = make_subscriber("gone@example.com")
    Subscriber.objects.filter(pk=gone.pk).update(status="unsubscribed")
    report = issue_send(issue_id=issue_compose(week=digest_week).pk)
    assert report.sent == 0
    assert smtp_server.messages == []


def test_archive_lists_sent_issues_and_shows_each(
    client, digest_week, smtp_server, make_subscriber
):
    make_subscriber("reader@example.com")
    issue = issue_compose(week=digest_week)
    assert client.get(f"/newsletter/archive/{issue.slug}/").status_code == 404  # not sent yet
    issue_send(issue_id=issue.pk)
    archive = client.get("/newsletter/archive/").content.decode()
    assert f"/newsletter/archive/{issue.slug}/" in archive
    assert "2 new comparisons, 1 verdict change" in archive
    page = client.get(f"/newsletter/archive/{issue.slug}/").content.decode()
    assert "vLLM vs TGI" in page and "vLLM wins on &lt;throughput&gt;." in page


def test_preview_in_browser_and_admin_is_for_staff(client, admin_client, digest_week):
    query = f"?week={digest_week.slug}&category=vector-databases"
    assert client.get("/newsletter/preview/" + query).status_code == 302  # to the login
    page = admin_client.get("/newsletter/preview/" + query)
    assert "2 items for this reader" in page.content.decode()
    html = admin_client.get("/newsletter/preview/email.html" + query)
    assert "Chroma vs Qdrant" in html.content.decode()
    assert "vLLM vs TGI" not in html.content.decode()
    assert "'unsafe-inline'" in html["Content-Security-Policy"]
    text = admin_client.get("/newsletter/preview/email.txt" + query)
    assert text["Content-Type"].startswith("text/plain")

    issue = issue_compose(week=digest_week)
    admin_page = admin_client.get(f"/admin/newsletter/issue/{issue.pk}/preview/")
    assert admin_page.status_code == 200
    assert f"week={issue.slug}" in admin_page.content.decode()
    assert admin_client.get(f"/admin/newsletter/issue/{issue.pk}/change/").status_code == 200


def test_the_prebuilt_email_matches_the_one_django_builds(digest_week, settings):
    import email
    import email.policy

    from django.core.mail import EmailMultiAlternatives

    from shipwith.newsletter.digest import DigestCache, digest_message

    settings.SHIPWITH_BASE_URL = "https://shipwith.test"
    digest = DigestCache(items=week_items(digest_week), week_slug=digest_week.slug).get(frozenset())
    message = digest_message(
        digest=digest,
        to="reader+tag@example.com",
        unsubscribe_url="https://shipwith.test/newsletter/unsubscribe/7:abc/",
        message_key="shipwith.key.7",
    )
    assert message.raw is not None
    fast = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    slow = email.message_from_bytes(
        EmailMultiAlternatives.message(message).as_bytes(), policy=email.policy.default
    )
    for header in [
        "To",
        "From",
        "Subject",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "Message-ID",
    ]:
        assert str(fast[header]).split() == str(slow[header]).split(), header
    assert fast["To"] == "reader+tag@example.com"
    for part in ["plain", "html"]:
        assert fast.get_body((part,)).get_content() == slow.get_body((part,)).get_content()
    assert (
        "https://shipwith.test/newsletter/unsubscribe/7:abc/"
        in fast.get_body(("html",)).get_content()
    )


def test_editors_cannot_add_subscribers_behind_the_double_opt_in(admin_client, make_subscriber):
    assert admin_client.get("/admin/newsletter/subscriber/add/").status_code == 403
    subscriber = make_subscriber("reader@example.com")
    page = admin_client.get(f"/admin/newsletter/subscriber/{subscriber.pk}/change/")
    assert page.status_code == 200
    assert admin_client.get("/admin/newsletter/issue/999/preview/").status_code == 404
