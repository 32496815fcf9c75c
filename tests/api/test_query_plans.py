"""/changes finds a busy catalog's recent tools and reviews through indexes, not by reading
every row: what an agent polling every few minutes costs the database."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.panel.models import Review
from tests.factories import make_category, make_personas

pytestmark = pytest.mark.django_db

ROWS = 2000
INDEXES = {"catalog_tool": "catalog_tool_created_idx", "panel_review": "panel_review_created_idx"}


def busy_catalog() -> None:
    """ROWS tools and as many reviews, one a minute going back, with fresh planner statistics."""
    category, persona = make_category(), make_personas()[0]
    tools = Tool.objects.bulk_create(
        Tool(slug=f"t-{n}", name=f"T {n}", category=category) for n in range(ROWS)
    )
    reviews = Review.objects.bulk_create(
        Review(
            tool=tool,
            persona=persona,
            version=1,
            verdict="ship",
            take="t",
            confidence=50,
            prompt_version=1,
        )
        for tool in tools
    )
    now = timezone.now()
    for n, row in enumerate(tools + reviews):
        row.created_at = now - timedelta(minutes=n % ROWS)
    Tool.objects.bulk_update(tools, ["created_at"], batch_size=500)
    Review.objects.bulk_update(reviews, ["created_at"], batch_size=500)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def plan(sql: str) -> str:
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(explain + sql)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def changes(client, url: str) -> tuple[dict, dict[str, str]]:
    """The answer, and the SQL of its reads of new tools and new reviews by table."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    found = {}
    for query in captured.captured_queries:
        for table in INDEXES:
            if f'ORDER BY "{table}"."created_at" ASC' in query["sql"]:
                found[table] = query["sql"]
    assert set(found) == set(INDEXES), found
    return response.json(), found


def test_an_agent_polling_the_last_hour_reads_through_the_indexes(client):
    busy_catalog()
    since = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body, first = changes(client, f"/api/v1/changes?since={since}&limit=20")
    assert len(body["items"]) == 20 and body["next"]
    # The next page adds the cursor's condition; it must not lose the index either.
    _, following = changes(client, body["next"].removeprefix("http://shipwith.test"))
    for queries in (first, following):
        for table, sql in queries.items():
            assert INDEXES[table] in plan(sql), (table, plan(sql))
