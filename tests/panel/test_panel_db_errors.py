"""A database error in one seat fails that seat with the reason; the rest of the run goes on."""

import pytest

from shipwith.panel.models import Review, RunStatus, SeatStatus
from shipwith.panel.runs import panel_run
from tests.panel.dbfaults import allow_reviews, refuse_reviews_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def refusing_skeptic():
    refuse_reviews_of("skeptic")
    yield
    allow_reviews()


def test_a_database_error_fails_one_seat_and_the_run_goes_on(
    fault_server, personas, make_tool, refusing_skeptic
):
    tool = make_tool()
    run = panel_run(tool_id=tool.pk)
    seats = {seat.persona.key: seat for seat in run.seats.all()}
    assert seats["skeptic"].status == SeatStatus.FAILED
    assert "database error while storing the review" in seats["skeptic"].error
    assert "database is locked" in seats["skeptic"].error
    assert seats["skeptic"].raw_output  # what the model said is kept for the editor
    assert {seats[key].status for key in ("builder", "futurist", "operator")} == {SeatStatus.DONE}
    assert run.status == RunStatus.INCOMPLETE and "Skeptic" in run.reason
    assert Review.objects.filter(tool=tool).count() == 3
