"""Polling: each source read on its own interval, due sources queued apart, a failing one backed
off; one chain of looks however often `up` queues it."""

import datetime as dt
import socket
import time

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shipwith.catalog.models import Source, Tool
from shipwith.ingest import tasks
from shipwith.ingest.models import IngestSource
from shipwith.ingest.selectors import sources_due_now, sources_round
from shipwith.ingest.sources import RETRY_MAX, next_due, next_wait, sources_due_claim
from tests.ingest.server import fixture

pytestmark = pytest.mark.django_db

OPENROUTER = "/api/v1/models"
SOURCE_PATH = "shipwith.ingest.tasks.ingest_source"


@pytest.fixture(autouse=True)
def polling(settings):
    settings.SHIPWITH_INGEST_POLL = True  # the suite turns it off (tests/conftest.py)


@pytest.fixture
def loopback(settings):
    settings.SHIPWITH_INGEST_ALLOW_PRIVATE = True
    settings.SHIPWITH_INGEST_HOST_DELAY = 0
    settings.SHIPWITH_INGEST_RETRIES = 0
    settings.SHIPWITH_INGEST_TOTAL_TIMEOUT = 5


def queued(path: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=path, status="READY").order_by("run_after"))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_each_kind_has_its_own_interval(make_source):
    every = {kind: make_source(kind, kind, url="https://x.example/").every for kind in (
        "hackernews", "openrouter", "modelsdev", "feed")}  # fmt: skip
    assert every == {
        "hackernews": dt.timedelta(minutes=15),
        "openrouter": dt.timedelta(hours=1),
        "modelsdev": dt.timedelta(hours=1),
        "feed": dt.timedelta(hours=6),
    }
    own = make_source("mine", "openrouter", interval=dt.timedelta(minutes=5))
    assert own.every == dt.timedelta(minutes=5)


def test_a_failing_source_waits_longer_each_time_up_to_a_cap():
    hour, quarter = dt.timedelta(hours=1), dt.timedelta(minutes=15)
    assert next_wait(hour) == hour
    assert [next_wait(hour, n) for n in (1, 2, 3, 4, 5, 6, 60)] == [
        quarter, 2 * quarter, 4 * quarter, 8 * quarter, 16 * quarter, RETRY_MAX, RETRY_MAX,
    ]  # fmt: skip
    assert next_wait(dt.timedelta(days=1), 60) == dt.timedelta(days=1)  # never sooner than it
    assert next_wait(dt.timedelta(seconds=30), 1) == dt.timedelta(seconds=30)


def test_polling_is_queued_once_however_often_up_asks():
    assert tasks.polling_schedule() and tasks.polling_schedule()
    assert len(queued(tasks.POLL_PATH)) == 1
    assert len(queued(tasks.REFRESH_PATH)) == 1


def test_up_brings_a_later_look_forward_but_not_tomorrows_refresh():
    later = timezone.now() + dt.timedelta(minutes=4)
    tomorrow = timezone.now() + dt.timedelta(days=1)
    tasks.ingest_poll.using(run_after=later).enqueue()
    tasks.ingest_refresh.using(run_after=tomorrow).enqueue()
    # The daily run polling replaced: a queued one is dropped.
    DBTaskResult.objects.create(
        task_path=tasks.DAILY_PATH, args_kwargs={"args": [], "kwargs": {}}, run_after=tomorrow
    )

    assert tasks.polling_schedule()

    [look] = queued(tasks.POLL_PATH)
    assert look.run_after <= timezone.now()
    [refresh] = queued(tasks.REFRESH_PATH)
    assert refresh.run_after == tomorrow
    assert queued(tasks.DAILY_PATH) == []


def test_with_polling_off_nothing_is_queued_and_a_chain_ends(settings):
    settings.SHIPWITH_INGEST_POLL = False
    assert tasks.polling_schedule() is False
    assert tasks.ingest_poll.call() == tasks.OFF
    assert tasks.ingest_refresh.call() == tasks.OFF
    assert not DBTaskResult.objects.exists()


@pytest.fixture
def look(django_capture_on_commit_callbacks):
    """Run one look of the polling, its runs queued as its commit would queue them."""

    def run() -> str:
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.ingest_poll.call()

    return run


def test_a_look_queues_only_the_due_sources_a_few_seconds_apart(make_source, look):
    now = timezone.now()
    never = make_source("never-read", "openrouter")
    overdue = make_source("overdue", "hackernews", next_run_at=now - dt.timedelta(minutes=3))
    make_source("later", "modelsdev", next_run_at=now + dt.timedelta(minutes=30))
    make_source("off", "huggingface", enabled=False)

    result = look()

    runs = queued(SOURCE_PATH)
    assert [run.args_kwargs["kwargs"]["source_id"] for run in runs] == [never.pk, overdue.pk]
    assert runs[1].run_after - runs[0].run_after == tasks.SPREAD
    assert result.startswith("2 sources queued")
    # Claimed: the next look does not queue them again while their runs wait.
    assert sources_due_claim() == []
    look()
    assert len(queued(SOURCE_PATH)) == 2
    # One chain: the look queued its next one (once, however often it ran).
    [look] = queued(tasks.POLL_PATH)
    assert look.run_after <= timezone.now() + tasks.POLL_WAIT_MAX


def test_the_next_look_is_when_the_next_source_is_due(make_source):
    make_source("soon", "openrouter", next_run_at=timezone.now() + dt.timedelta(seconds=40))
    tasks.ingest_poll.call()
    [look] = queued(tasks.POLL_PATH)
    wait = look.run_after - timezone.now()
    assert dt.timedelta(seconds=30) < wait <= dt.timedelta(seconds=40)


def test_sources_read_together_move_apart_then_each_is_read_one_interval_after_the_last(
    server, loopback, make_source
):
    server.serve(OPENROUTER, fixture("openrouter_models.json"))
    minute = dt.timedelta(minutes=1)
    sources = [
        make_source(name, "openrouter", url=server.url(OPENROUTER), interval=minute,
                    baseline_at=timezone.now())
        for name in ("one", "two")
    ]  # fmt: skip

    before = timezone.now()
    for source in sources:  # read together, as the defaults are on the first `up`
        assert tasks.ingest_source.call(source_id=source.pk).startswith(f"{source.name}: 4 items")

    due = []
    for source in sources:
        source.refresh_from_db()
        # Never later than one interval after a read began: nothing listed waits longer.
        assert before < source.next_run_at <= timezone.now() + minute
        due.append(source.next_run_at)
    apart = abs(due[0] - due[1]) % minute
    assert minute / 4 <= apart <= minute * 3 / 4  # spread over the interval, not together

    # Read at its time (the worker wakes for it, a little late), a source is read next exactly
    # one interval after that time, and again after that: the interval between reads is its
    # interval. Read late (a worker that was stopped), at its next time on the grid.
    first = sources[0]
    late = dt.timedelta(milliseconds=150)
    assert next_due(source_id=first.pk, every=minute, run_began=due[0] + late) == due[0] + minute
    assert next_due(source_id=first.pk, every=minute, run_began=due[0] + minute) == (
        due[0] + 2 * minute
    )
    asleep = dt.timedelta(seconds=80)
    assert next_due(source_id=first.pk, every=minute, run_began=due[0] + asleep) == (
        due[0] + 2 * minute
    )


def test_a_source_read_when_due_is_due_again_exactly_one_interval_later(
    server, loopback, make_source
):
    server.serve(OPENROUTER, fixture("openrouter_models.json"))
    second = dt.timedelta(seconds=1)
    source = make_source("fast", "openrouter", url=server.url(OPENROUTER), interval=second,
                         baseline_at=timezone.now())  # fmt: skip

    def read_when_due() -> dt.datetime:
        source.refresh_from_db()
        due = source.next_run_at
        time.sleep(max((due + tasks.CLOCK_STEP - timezone.now()).total_seconds(), 0))
        assert sources_due_claim() == [source.pk]  # due on the database's clock too
        tasks.ingest_source.call(source_id=source.pk)
        return due

    tasks.ingest_source.call(source_id=source.pk)  # its first read: next on its grid
    # The polling looks when it is due (the worker wakes for that look).
    [look] = queued(tasks.POLL_PATH)
    source.refresh_from_db()
    assert dt.timedelta(0) < look.run_after - source.next_run_at <= tasks.CLOCK_STEP

    due = read_when_due()
    source.refresh_from_db()
    assert source.next_run_at == due + second
    assert read_when_due() == due + second


def test_an_unreachable_source_records_it_and_backs_off(make_source, loopback, monkeypatch):
    closed = make_source("closed", "openrouter", url=f"http://127.0.0.1:{closed_port()}/models")
    nameless = make_source("nameless", "openrouter", url="https://models.nowhere.example/models")

    system_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # no DNS server answers: this machine is offline
        if host == "models.nowhere.example":
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return system_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    waiting = sources_due_now()
    waits = []
    for attempt in (1, 2):
        before = timezone.now()
        for source in (closed, nameless):
            tasks.ingest_source.call(source_id=source.pk)
        for source in (closed, nameless):
            source.refresh_from_db()
            assert (source.failures_in_row, source.unreachable) == (attempt, True)
            assert source.last_success_at is None and source.baseline_at is None
        waits.append(closed.next_run_at - before)
    assert "connection failed" in closed.last_error
    assert "cannot resolve models.nowhere.example" in nameless.last_error
    quarter = dt.timedelta(minutes=15)
    assert quarter <= waits[0] <= quarter * 1.1 + dt.timedelta(seconds=5)
    assert 2 * quarter <= waits[1] <= 2 * quarter * 1.1 + dt.timedelta(seconds=5)
    # `up` says it in one line.
    assert sources_round(waiting) == (
        "ingest: 2 sources unreachable — offline? Each is tried again with backoff; "
        "`shipwith status` shows them."
    )


def test_the_round_waits_for_every_source_then_counts_what_waits_for_an_editor(
    server, loopback, make_source, categories, look
):
    server.serve(OPENROUTER, fixture("openrouter_models.json"))
    make_source("read", "openrouter", url=server.url(OPENROUTER))
    make_source("down", "openrouter", url=f"http://127.0.0.1:{closed_port()}/models")
    waiting = sources_due_now()
    assert sources_round(waiting) is None
    look()
    for run in queued(SOURCE_PATH)[:1]:
        tasks.ingest_source.call(**run.args_kwargs["kwargs"])
    assert sources_round(waiting) is None  # one still to run
    for run in queued(SOURCE_PATH)[1:]:
        tasks.ingest_source.call(**run.args_kwargs["kwargs"])
    assert sources_round(waiting) == (
        "ingest: 1 source read; waiting for an editor: 0 new, 0 updates, 4 in the back catalog "
        "(shipwith ingest candidates, or the admin); 1 unreachable — offline?"
    )


def test_the_refresh_dates_the_tools_pages_and_queues_tomorrows(server, loopback, categories):
    tool = Tool.objects.create(name="Quill", slug="quill", category=categories["inference-servers"])
    page = server.serve("/quill/", fixture("page_quill.html"), content_type="text/html")
    Source.objects.create(tool=tool, url=page, title="Quill")

    assert tasks.ingest_refresh.call().startswith("1 pages fetched and stored")

    assert Source.objects.get().checked_on == timezone.now().date()
    [refresh] = queued(tasks.REFRESH_PATH)
    assert refresh.run_after > timezone.now() + tasks.REFRESH_EVERY - dt.timedelta(minutes=1)


def test_a_source_added_from_the_command_line_is_looked_at_now(
    run_command, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        out = run_command(
            "ingest", "sources", "add", "hn", "--kind", "hackernews", "--every", "30m"
        )
    assert "read every 30m" in out and "first run records what it lists as back catalog" in out
    assert IngestSource.objects.get().every == dt.timedelta(minutes=30)
    [look] = queued(tasks.POLL_PATH)
    assert look.run_after <= timezone.now()
    listing = run_command("ingest", "sources", "list")
    assert "every 30m" in listing and "next now" in listing and "baseline next" in listing
