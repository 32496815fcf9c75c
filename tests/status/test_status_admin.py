"""The admin's index shows what `shipwith status` shows, in a constant number of queries."""

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shipwith.ingest.models import Candidate, IngestSource
from tests.factories import make_panel, make_tool
from tests.status import tasks

pytestmark = pytest.mark.django_db
_numbers = itertools.count(1)


@pytest.fixture
def staff_client(client):
    """An editor with a staff account (no superuser rights)."""
    user = get_user_model().objects.create_user("editor", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_candidate"))
    client.force_login(user)
    return client


def grow() -> None:
    """More of everything the status counts: sources, candidates, tools, tasks."""
    n = next(_numbers)
    IngestSource.objects.create(name=f"feed-{n}", kind="feed", url=f"https://example.com/{n}")
    IngestSource.objects.create(
        name=f"broken-{n}",
        kind="openrouter",
        failures_in_row=1,
        last_run_at=timezone.now(),
        last_error=f"source 'broken-{n}': ConnectError",
        last_error_at=timezone.now(),
    )
    for state in ("new", "update", "rejected"):
        Candidate.objects.create(name=f"Tool {n} {state}", status=state)
    make_panel(make_tool(), "ssks")
    make_panel(make_tool(), "ss", provider="local")
    tasks.does_nothing.enqueue()


def admin_index(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_admin_index_shows_the_figures_of_the_status_command(staff_client, status_json):
    IngestSource.objects.create(
        name="hn-show",
        kind="hackernews",
        failures_in_row=3,
        last_run_at=timezone.now(),
        last_error="source 'hn-show': HTTPStatusError: 503 Service Unavailable",
        last_error_at=timezone.now(),
    )
    IngestSource.objects.create(name="openrouter-models", kind="openrouter")
    for name, state in [("A", "new"), ("B", "new"), ("C", "update")]:
        Candidate.objects.create(name=name, status=state)
    make_panel(make_tool(), "ssks")
    make_panel(make_tool(), "sk")  # incomplete: two of four takes
    _, data = status_json()
    _, page = admin_index(staff_client)
    status = page[page.index('id="operator-status"') : page.index('id="content-related"')]
    # Above the app list.
    assert page.index('id="operator-status"') < page.index('class="app-')
    assert "source hn-show is failing (3 runs in a row)" in status
    assert "503 Service Unavailable" in status
    assert "never run" in status  # openrouter-models
    assert "<code>local</code>" in status and "yes: its panels are drafts" in status
    panels = data["panels"]
    assert "1 verdict · 0 drafts" in status
    assert f"{panels['verdicts']} verdict · {panels['drafts']} drafts" in status
    assert f"{panels['incomplete']} tool ({panels['lacking_panel']} lack" in status
    assert ">new</a></th><td>2</td>" in status
    assert ">update</a></th><td>1</td>" in status
    assert "not queued: <code>shipwith newsletter schedule</code>" in status


def test_the_admin_index_costs_the_same_queries_however_much_there_is(
    staff_client, django_assert_max_num_queries
):
    grow()
    with django_assert_max_num_queries(30):
        few, _ = admin_index(staff_client)
    for _ in range(3):
        grow()
    many, page = admin_index(staff_client)
    assert page.count("broken-") >= 4
    assert many == few


def test_the_status_is_for_staff_only(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
