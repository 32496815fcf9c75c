"""What readers see of ingest: "New this week", "not checked yet"."""

import datetime as dt

import pytest
from django.utils import timezone

from shipwith.catalog.models import Source, Tool
from shipwith.ingest.models import Candidate, Status

pytestmark = pytest.mark.django_db


def accepted(tool: Tool, days_ago: int) -> None:
    when = timezone.now() - dt.timedelta(days=days_ago)
    Tool.objects.filter(pk=tool.pk).update(created_at=when)
    Candidate.objects.create(
        name=tool.name, tool=tool, status=Status.ACCEPTED, decided_at=when, facts={}
    )


def test_home_shows_tools_accepted_this_week(client, categories):
    fresh = Tool.objects.create(
        name="Turbopuffer", slug="turbopuffer", category=categories["vector-databases"]
    )
    old = Tool.objects.create(
        name="Old Hat", slug="old-hat", category=categories["vector-databases"]
    )
    hand_made = Tool.objects.create(
        name="By Hand", slug="by-hand", category=categories["vector-databases"]
    )
    accepted(fresh, 2)
    accepted(old, 9)
    page = client.get("/").content.decode()
    section = page.split('id="new-heading"', 1)[1].split("</section>", 1)[0]
    assert "Turbopuffer" in section
    assert "Old Hat" not in section and hand_made.name not in section


def test_home_has_no_new_section_in_a_quiet_week(client, categories):
    assert 'id="new-heading"' not in client.get("/").content.decode()


def test_a_source_never_fetched_says_not_checked_yet(client, categories):
    tool = Tool.objects.create(
        name="Qdrant", slug="qdrant", category=categories["vector-databases"]
    )
    Source.objects.create(tool=tool, url="https://qdrant.tech/documentation/", title="Qdrant docs")
    Source.objects.create(
        tool=tool,
        url="https://qdrant.tech/pricing/",
        title="Pricing",
        checked_on=dt.date(2026, 11, 30),
    )
    page = client.get("/tools/qdrant/").content.decode()
    assert 'Qdrant docs</a> <span class="muted">not checked yet</span>' in page
    assert "checked on 30 Nov 2026" in page
