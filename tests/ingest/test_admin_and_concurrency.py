"""Editors in the admin; decisions and runs that hold with several processes at once."""

import threading

import pytest
from django.db import connection

from shipwith.catalog.models import Tool
from shipwith.ingest.candidates import RunIndex
from shipwith.ingest.decisions import candidate_accept
from shipwith.ingest.errors import IngestError
from shipwith.ingest.models import Candidate, IngestSource, Status
from shipwith.ingest.run import items_ingest
from tests.ingest.conftest import make_item


@pytest.mark.django_db
def test_sources_show_their_health_and_candidates_are_decided_in_the_admin(
    admin_client, categories, make_source
):
    source = make_source("hf-hub", "huggingface")
    IngestSource.objects.filter(pk=source.pk).update(
        failures_in_row=3, last_error="source 'hf-hub': FetchError: HTTP 503"
    )
    page = admin_client.get("/admin/ingest/ingestsource/").content.decode()
    assert "hf-hub" in page and "HTTP 503" in page

    items_ingest(source=source, items=[make_item("Zorblax", key="1"), make_item("Fnord", key="2")])
    zorblax, fnord = Candidate.objects.order_by("pk")
    Candidate.objects.filter(pk=fnord.pk).update(rejection_reason="Not an AI tool")
    listing = admin_client.get("/admin/ingest/candidate/").content.decode()
    assert "Zorblax" in listing and "hf-hub" in listing
    admin_client.post(
        "/admin/ingest/candidate/",
        {"action": "accept", "_selected_action": [zorblax.pk]},
    )
    admin_client.post(
        "/admin/ingest/candidate/", {"action": "reject", "_selected_action": [fnord.pk]}
    )
    assert Candidate.objects.get(pk=zorblax.pk).status == Status.ACCEPTED
    assert Tool.objects.filter(name="Zorblax").exists()
    assert Candidate.objects.get(pk=fnord.pk).status == Status.REJECTED
    change = admin_client.get(f"/admin/ingest/candidate/{zorblax.pk}/change/")
    assert change.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_editors_accepting_the_same_candidate_make_one_tool(categories, make_source):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    items_ingest(source=make_source("hn", "hackernews"), items=[make_item("Zorblax", key="1")])
    candidate = Candidate.objects.get()
    outcomes, barrier = [], threading.Barrier(2)

    def accept():
        barrier.wait()
        try:
            tool = candidate_accept(candidate_id=candidate.pk, category_slug="vector-databases")
            outcomes.append(tool.slug)
        except IngestError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Tool.objects.filter(name="Zorblax").count() == 1, outcomes
    [won] = [o for o in outcomes if o == "zorblax"]
    [lost] = [o for o in outcomes if o != "zorblax"]
    assert lost.endswith("(Zorblax) is already accepted")


@pytest.mark.django_db
def test_the_admin_refuses_autopublish_for_hacker_news(admin_client):
    response = admin_client.post(
        "/admin/ingest/ingestsource/add/",
        {"name": "show-hn", "kind": "hackernews", "url": "", "enabled": "on", "autopublish": "on",
         "options": "{}"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Hacker News (Show HN) sources never autopublish." in response.content.decode()
    assert not IngestSource.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_runs_that_meet_one_new_tool_at_once_propose_it_once(categories, make_source):
    """Two processes read two sources that both list a tool nobody has proposed yet.

    Run A stops just before it adds its candidate, for as long as run B lets it (2 s at
    most); then B stores the same tool. B must wait for A's turn and join A's candidate, not
    add a second one from what it knew when it started.
    """
    if connection.vendor != "postgresql":
        pytest.skip("the in-memory SQLite test database refuses a second writer at once")
    hub, openrouter = make_source("hf-hub", "huggingface"), make_source("or", "openrouter")
    hub_item = make_item("Zorblax Coder 7B", key="zorblax/Zorblax-Coder-7B")
    openrouter_item = make_item("Zorblax Coder 7B", key="zorblax/zorblax-coder-7b")
    a_inserting, b_done, problems = threading.Event(), threading.Event(), []

    def pause_before_insert(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "ingest_candidate"') and not a_inserting.is_set():
            a_inserting.set()
            b_done.wait(2)
        return execute(sql, params, many, context)

    def run_a():
        try:
            with connection.execute_wrapper(pause_before_insert):
                problems.extend(items_ingest(source=hub, items=[hub_item]).problems)
        finally:
            connection.close()

    def run_b():
        try:
            assert a_inserting.wait(10)
            problems.extend(items_ingest(source=openrouter, items=[openrouter_item]).problems)
            b_done.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=run_a), threading.Thread(target=run_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not problems
    [candidate] = Candidate.objects.all()
    assert sorted(candidate.mentions.values_list("source_name", flat=True)) == ["hf-hub", "or"]


@pytest.mark.django_db
def test_a_run_sees_the_candidates_added_since_it_started(categories, make_source):
    hub, openrouter = make_source("hf-hub", "huggingface"), make_source("or", "openrouter")
    started_earlier = RunIndex()  # a long run over another source, started before the hub's
    items_ingest(source=hub, items=[make_item("Zorblax Coder 7B", key="zorblax/coder")])
    item = make_item("Zorblax Coder 7B", key="zorblax/zorblax-coder-7b")
    report = items_ingest(source=openrouter, items=[item], run=started_earlier)
    assert (report.created, report.updated) == (0, 1)
    [candidate] = Candidate.objects.all()
    assert candidate.mentions.count() == 2
