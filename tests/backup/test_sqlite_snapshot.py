"""The SQLite copy is one instant however busy the site is: writes between its steps never
restart it (SQLite's backup starts over after a write by another connection) nor get into it."""

import sqlite3
from contextlib import closing

import pytest

from shipwith import backups


def test_a_write_between_every_step_neither_restarts_the_copy_nor_gets_into_it(
    tmp_path, monkeypatch
):
    live = tmp_path / "live.sqlite3"
    with closing(sqlite3.connect(live, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE votes_vote (id INTEGER PRIMARY KEY, padding BLOB)")
        db.executemany("INSERT INTO votes_vote (padding) VALUES (randomblob(3000))", [()] * 500)
    writer = sqlite3.connect(live, isolation_level=None)
    steps = []

    def vote_between_steps(status, remaining, total):
        steps.append(remaining)
        if len(steps) > 1000:
            pytest.fail("the copy keeps starting over")
        writer.execute("INSERT INTO votes_vote (padding) VALUES (x'00')")  # committed at once

    monkeypatch.setattr(backups, "PAGES_PER_STEP", 20)
    monkeypatch.setattr(backups, "_pause", vote_between_steps)
    copy = tmp_path / "copy.sqlite3"
    copy.touch()

    census = backups._sqlite_backup(live, copy)

    writer.close()
    assert len(steps) > 10 and steps == sorted(steps, reverse=True)  # never started over
    assert census.counts["votes"] == 500  # the rows of the instant it began, none after
    with closing(sqlite3.connect(live)) as db:
        assert db.execute("SELECT count(*) FROM votes_vote").fetchone()[0] == 500 + len(steps)
