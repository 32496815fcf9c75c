"""A source's lease: one process reads a source at a time, whatever the hosts' clocks say."""

import datetime as dt

import pytest
from django.db.models.functions import Now
from django.utils import timezone

from shipwith.ingest.models import IngestSource
from shipwith.ingest.run import ingest_run
from shipwith.ingest.sources import RUN_LEASE, source_lease

pytestmark = pytest.mark.django_db


@pytest.fixture
def host_clock(monkeypatch):
    """Set this process's clock `offset` away from the database's (an unsynchronised host)."""
    real = timezone.now

    def skew(offset: dt.timedelta) -> None:
        monkeypatch.setattr(timezone, "now", lambda: real() + offset)

    return skew


def test_a_source_another_process_is_running_is_reported_not_read_twice(make_source):
    source = make_source("hf-hub", "huggingface")
    IngestSource.objects.filter(pk=source.pk).update(running=True, last_run_at=Now())
    [report] = ingest_run(names=["hf-hub"])
    assert report.error == "source 'hf-hub': another process is running it"


def test_a_host_whose_clock_runs_ahead_never_takes_a_source_another_holds(make_source, host_clock):
    source = make_source("hf-hub", "huggingface")
    assert source_lease(source_id=source.pk)  # a worker on a host with the right time
    taken_at = IngestSource.objects.get(pk=source.pk).last_run_at
    host_clock(2 * RUN_LEASE)  # a CLI run on a host two leases ahead
    [report] = ingest_run(names=["hf-hub"])
    assert report.error == "source 'hf-hub': another process is running it"
    assert IngestSource.objects.get(pk=source.pk).last_run_at == taken_at


def test_a_crashed_run_frees_its_source_after_a_lease_even_on_a_host_behind(
    make_source, host_clock
):
    source = make_source("hf-hub", "huggingface")
    # Taken an hour and a minute ago by the database's clock, by a process that then died.
    IngestSource.objects.filter(pk=source.pk).update(
        running=True, last_run_at=Now() - RUN_LEASE - dt.timedelta(minutes=1)
    )
    host_clock(-2 * RUN_LEASE)  # this host runs two leases behind
    assert source_lease(source_id=source.pk)
    assert not source_lease(source_id=source.pk)  # and now it holds it
