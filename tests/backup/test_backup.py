"""`shipwith backup PATH` while the site writes, and `shipwith restore PATH` into an empty one."""

import sqlite3
import subprocess
import threading
import time
from contextlib import closing

from tests.backup.conftest import POSTGRES, needs_postgres

# A reader voting and signing up non-stop; each line is printed once its row is committed.
WRITER = """
import itertools, time
from django.utils import timezone
from shipwith.catalog.models import Tool
from shipwith.newsletter.subscribers import subscription_confirm
from shipwith.votes.services import vote_cast, voter_create
tools = list(Tool.objects.values_list("pk", flat=True))
for n in itertools.count():
    voter = voter_create()
    vote_cast(voter_id=voter.pk, tool_id=tools[n % len(tools)], value="skip" if n % 3 else "ship")
    print("vote", voter.pk, flush=True)
    if n % 4 == 0:
        email = f"writer{n}@example.com"
        subscription_confirm(email=email, category_ids=[], issued_at=timezone.now())
        print("subscriber", email, flush=True)
    time.sleep(0.005)
"""


class Writer:
    """The writer in a child process of its own, its committed rows collected as they come."""

    def __init__(self, site) -> None:
        self.process = subprocess.Popen(
            site.command("shell", "-v0", "-c", WRITER), env=site.env(), cwd=site.home,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.split())

    def wait_for(self, count: int) -> list[list[str]]:
        deadline = time.monotonic() + 90
        while len(self.lines) < count:
            assert self.process.poll() is None, self.process.stderr.read()[-3000:]
            assert time.monotonic() < deadline, "the writer never got going"
            time.sleep(0.05)
        return list(self.lines)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.reader.join(timeout=5)


def counts(site) -> dict[str, int]:
    tables = {
        "votes": "votes_vote", "subscribers": "newsletter_subscriber",
        "reviews": "panel_review", "tools": "catalog_tool",
    }  # fmt: skip
    return {noun: site.query(f"SELECT count(*) FROM {t}")[0][0] for noun, t in tables.items()}


def test_a_backup_taken_while_readers_write_restores_every_row_committed_before_it(
    site, empty_site, tmp_path
):
    path = tmp_path / "backups" / "site.backup"  # a folder that does not exist yet
    writer = Writer(site)
    try:
        committed = writer.wait_for(40)  # every row printed so far is committed
        written = site.cli("backup", path).stdout.strip()
        writer.wait_for(len(committed) + 20)  # and the site kept taking writes
    finally:
        writer.stop()

    target = empty_site()
    restored = target.cli("restore", path).stdout.strip()

    voters = {str(v) for (v,) in target.query("SELECT voter_id FROM votes_vote")}
    emails = {e for (e,) in target.query("SELECT email FROM newsletter_subscriber")}
    assert {value for kind, value in committed if kind == "vote"} <= voters
    assert {value for kind, value in committed if kind == "subscriber"} <= emails
    # One instant: every vote in the copy came with its tally, and nothing after the copy.
    ((tallied,),) = target.query("SELECT sum(ships + skips) FROM votes_tooltally")
    found = counts(target)
    assert tallied == found["votes"]
    assert found["votes"] < counts(site)["votes"]
    assert found["reviews"] == 12 and found["tools"] == 3
    # Each line tells the operator what the file holds, in the file's own counts.
    summary = f"{found['votes']:,} votes, {found['subscribers']:,} subscribers, 12 reviews, 3 tools"
    assert written.startswith(f"Backup written to {path}: ") and summary in written
    assert restored.startswith(f"Restored {path} into ") and summary in restored
    assert "schema already current" in restored
    assert [p.name for p in path.parent.iterdir()] == ["site.backup"]  # no temporary file left
    assert path.stat().st_mode & 0o077 == 0  # readers' addresses: for the operator's eyes only


def test_restore_into_a_database_that_holds_data_is_refused_and_changes_nothing(site, tmp_path):
    path = tmp_path / "site.backup"
    site.cli("backup", path)
    site.query("DELETE FROM votes_vote")  # the site moved on since the backup
    before = counts(site)

    refused = site.cli("restore", path, check=False)

    assert refused.returncode == 1
    assert "already holds data" in refused.stderr and site.database in refused.stderr
    assert "empty database only" in refused.stderr
    assert counts(site) == before


def test_a_damaged_backup_is_refused_and_the_target_stays_empty(site, empty_site, tmp_path):
    path = tmp_path / "site.backup"
    site.cli("backup", path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a copy cut short
    target = empty_site()

    refused = target.cli("restore", path, check=False)

    assert refused.returncode == 1
    assert str(path) in refused.stderr
    assert "damaged" in refused.stderr or "nothing was restored" in refused.stderr
    assert target.tables() == 0
    assert not list(target.home.glob("*.partial"))


def test_a_file_that_is_no_backup_is_refused(empty_site, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n")
    target = empty_site()

    refused = target.cli("restore", path, check=False)

    assert refused.returncode == 1
    assert f"{path} is not a shipwith backup" in refused.stderr
    assert target.tables() == 0


def test_a_postgresql_backup_is_refused_by_a_sqlite_site(empty_site, tmp_path):
    path = tmp_path / "site.dump"
    path.write_bytes(b"PGDMP\x01\x0f\x00" + bytes(200))
    target = empty_site("sqlite")

    refused = target.cli("restore", path, check=False)

    assert refused.returncode == 1
    assert "is a PostgreSQL backup, but this site's database is SQLite" in refused.stderr
    assert target.tables() == 0


@needs_postgres
def test_a_sqlite_backup_is_refused_by_a_postgresql_site(empty_site, tmp_path):
    path = tmp_path / "site.sqlite3"
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE catalog_tool (id integer primary key)")
    target = empty_site("postgres")

    refused = target.cli("restore", path, check=False)

    assert refused.returncode == 1
    assert "is a SQLite backup, but this site's database is PostgreSQL" in refused.stderr
    assert target.tables() == 0


def test_an_existing_file_is_replaced_only_with_force(site, tmp_path):
    path = tmp_path / "site.backup"
    path.write_text("last week's backup\n")

    refused = site.cli("backup", path, check=False)
    assert refused.returncode == 1
    assert f"{path} exists: pass --force to replace it" in refused.stderr
    assert path.read_text() == "last week's backup\n"

    site.cli("backup", path, "--force")
    assert path.read_bytes()[:5] == (b"PGDMP" if POSTGRES else b"SQLit")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "site.backup"]


def test_a_sqlite_backup_never_writes_over_the_live_database(empty_site, site):
    if POSTGRES:
        site = empty_site("sqlite")
        site.cli("migrate", "-v0")
    refused = site.cli("backup", site.sqlite_file, "--force", check=False)
    assert refused.returncode == 1
    assert "is the site's database itself" in refused.stderr
    assert site.tables() > 0


@needs_postgres
def test_a_restore_that_fails_half_way_leaves_the_postgresql_target_empty(
    site, empty_site, tmp_path
):
    path = tmp_path / "site.dump"
    site.cli("backup", path)
    data = bytearray(path.read_bytes())
    for n in range(len(data) * 97 // 100, len(data) * 97 // 100 + 500):
        data[n] ^= 0x5A  # the last tables' rows, after the table of contents
    path.write_bytes(data)
    assert subprocess.run(["pg_restore", "--list", path], capture_output=True).returncode == 0
    target = empty_site()

    refused = target.cli("restore", path, check=False)

    assert refused.returncode == 1
    assert f"{path} could not be restored, so nothing was" in refused.stderr
    assert target.tables() == 0


def test_an_older_backup_is_migrated_to_the_current_schema(site, empty_site, tmp_path):
    path = tmp_path / "old.backup"
    site.cli("migrate", "panel", "0005", "-v0")  # the schema before the latest panel migration
    site.cli("backup", path)
    target = empty_site()

    restored = target.cli("restore", path).stdout

    assert "applied to reach the current schema" in restored
    assert "12 reviews, 3 tools" in restored
    assert target.cli("migrate", "--check", check=False).returncode == 0
