"""The digest leads with what is new and decided; undecided comparisons are one link."""

import datetime as dt

import pytest

from shipwith.catalog.models import Tool
from shipwith.ingest.models import Candidate, Status
from shipwith.newsletter.digest import digest_render
from shipwith.newsletter.selectors import week_items

pytestmark = pytest.mark.django_db


def test_new_tools_then_flips_then_complete_comparisons_then_one_link(
    week, make_tool, make_comparison, personas, make_review, settings
):
    settings.NEWSLETTER_MAX_COMPARISONS = 2
    tools = [make_tool(f"Server {n}") for n in range(8)]
    for tool in tools[:6]:
        for persona in personas:
            make_review(tool, persona, "ship" if tool.pk % 2 else "skip")
    for n in range(4):  # 3 pairs with complete panels (0-1, 2-3, 4-5) and 1 without (6-7)
        make_comparison(tools[2 * n], tools[2 * n + 1], week.start + dt.timedelta(days=n + 1))
    newcomer = make_tool("Turbopuffer", "Vector databases")
    Tool.objects.filter(pk=newcomer.pk).update(created_at=week.start + dt.timedelta(days=2))
    Candidate.objects.create(
        name="Turbopuffer",
        tool=newcomer,
        status=Status.ACCEPTED,
        decided_at=week.start + dt.timedelta(days=2),
        facts={},
    )
    make_review(
        tools[7],
        personas[0],
        "skip",
        previous="ship",
        version=2,
        at=week.start + dt.timedelta(days=3),
    )

    items = week_items(week)

    assert [item["kind"] for item in items] == [
        "new_tool",
        "flip",
        "comparison",
        "comparison",
        "more",
    ]
    assert items[0]["title"] == "Turbopuffer"
    compared = [item for item in items if item["kind"] == "comparison"]
    assert all("incomplete" not in side["panel"] for item in compared for side in item["sides"])
    assert items[-1]["count"] == 2  # one complete pair over the limit, one incomplete pair

    digest = digest_render(items=items, week_slug=week.slug, category_slugs=frozenset())
    text = digest.text
    assert digest.subject.endswith("1 new tool, 2 new comparisons, 1 verdict change")
    assert text.index("NEW TOOLS") < text.index("VERDICT CHANGES") < text.index("NEW COMPARISONS")
    assert "2 more comparisons on the site: " in text
    assert "Turbopuffer" in digest.html and "2 more comparisons on the site" in digest.html


def test_a_first_week_of_undecided_comparisons_is_one_link(week, make_tool, make_comparison):
    for n in range(30):
        make_comparison(make_tool(f"A{n}"), make_tool(f"B{n}"), week.start + dt.timedelta(hours=n))
    items = week_items(week)
    assert [item["kind"] for item in items] == ["more"]
    digest = digest_render(items=items, week_slug=week.slug, category_slugs=frozenset())
    assert "0 of 4" not in digest.text and "30 more comparisons on the site" in digest.text


def test_a_digest_carries_ten_comparisons_unless_told_otherwise(
    week, make_tool, make_comparison, personas, make_review
):
    tools = [make_tool(f"Store {n}") for n in range(24)]
    for tool in tools:
        for persona in personas:
            make_review(tool, persona, "ship")
    for n in range(12):
        make_comparison(tools[2 * n], tools[2 * n + 1], week.start + dt.timedelta(hours=n + 1))
    items = week_items(week)
    assert [item["kind"] for item in items].count("comparison") == 10
    assert items[-1]["kind"] == "more" and items[-1]["count"] == 2


def test_the_archived_issue_page_leads_with_the_new_tools_too(
    client, week, make_tool, make_comparison
):
    from django.utils import timezone

    from shipwith.newsletter.models import Issue

    newcomer = make_tool("Turbopuffer", "Vector databases")
    Candidate.objects.create(
        name="Turbopuffer",
        tool=newcomer,
        status=Status.ACCEPTED,
        decided_at=week.start + dt.timedelta(days=2),
        facts={},
    )
    for n in range(3):
        make_comparison(make_tool(f"A{n}"), make_tool(f"B{n}"), week.start + dt.timedelta(hours=n))
    Issue.objects.create(
        slug=week.slug,
        week_start=week.start,
        week_end=week.end,
        items=week_items(week),
        send_started_at=timezone.now(),
    )

    page = client.get(f"/newsletter/archive/{week.slug}/").content.decode()

    assert "New tools" in page and "Turbopuffer" in page
    assert page.index("Turbopuffer") < page.index("3 more comparisons on the site")
