"""Backups that restore: `shipwith backup PATH` and `shipwith restore PATH`.

A backup is one file holding the whole database as of one instant, taken while the site serves:

- SQLite: the online backup API, run inside one read transaction on the source, so the copy is
  one snapshot and, the database being in WAL mode, writers keep committing beside it (they
  never wait on the copy, nor restart it). Copied in steps of PAGES_PER_STEP with a pause
  between them to a temporary file next to PATH, made self-contained (no -wal beside it),
  checked with `PRAGMA integrity_check`, then renamed to PATH.
- PostgreSQL: `pg_dump --format=custom` of a snapshot this module exports and holds open, so
  the counts printed are those of the very rows dumped; to a temporary file next to PATH,
  checked with `pg_restore --list`, then renamed.

PATH is replaced only with `force`, and is never the live database itself.

A restore goes into an empty database only, and there is no override: empty means no table at
all (a SQLite file that does not exist or holds no table; a PostgreSQL database with no table
outside the system schemas). A migrated database with no rows is refused too: a restore never
has to decide which rows of a target may be thrown away, and never mixes two schemas. The
backup's kind is read from its first bytes (SQLite's header, pg_dump's "PGDMP") and must be the
site's. SQLite: the backup, checked whole first, is copied to a temporary file next to the
database and renamed into place; PostgreSQL: `pg_restore --single-transaction`. A restore that
fails half-way leaves the target as empty as it found it. `migrate` then brings an older backup
up to the current schema.
"""

import os
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.core.management import call_command
from django.db import connection, transaction

from shipwith.catalog.models import Tool
from shipwith.newsletter.models import Subscriber
from shipwith.panel.models import Review
from shipwith.votes.models import Vote

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
KINDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# SQLite: pages copied per step (4 MB of 4 kB pages), and the pause after each step that leaves
# the disk and a core to the site; `sleep` is the wait after the source reported busy.
PAGES_PER_STEP = 1024
STEP_PAUSE = 0.002
BUSY_SLEEP = 0.05
# The files SQLite keeps beside a database.
SUFFIXES = ("-wal", "-shm", "-journal")
# The rows an operator checks a backup by, each counted in the copy itself.
COUNTED = {"votes": Vote, "subscribers": Subscriber, "reviews": Review, "tools": Tool}
PG_CLIENT_HINT = (
    "install PostgreSQL's client tools of the server's major version or newer "
    "(Debian: apt install postgresql-client)"
)


class BackupError(Exception):
    """A backup or restore that was refused or failed; the message says what and where."""


def _plural(count: int, nouns: str) -> str:
    return f"{count:,} {nouns if count != 1 else nouns.removesuffix('s')}"


@dataclass(frozen=True)
class Census:
    tables: int
    counts: dict[str, int]

    def __str__(self) -> str:
        return ", ".join(
            [_plural(self.tables, "tables"), *(_plural(n, noun) for noun, n in self.counts.items())]
        )


@dataclass(frozen=True)
class Written:
    path: Path
    size: int
    kind: str
    census: Census

    @property
    def line(self) -> str:
        return (
            f"Backup written to {self.path}: {self.size / 1e6:.1f} MB, {self.census} "
            f"({KINDS[self.kind]})"
        )


@dataclass(frozen=True)
class Restored:
    path: Path
    database: str
    migrations: int  # applied after the restore, to reach the current schema
    census: Census

    @property
    def line(self) -> str:
        schema = (
            f"{_plural(self.migrations, 'migrations')} applied to reach the current schema"
            if self.migrations
            else "schema already current"
        )
        return f"Restored {self.path} into {self.database}: {self.census} ({schema})"


def database_label() -> str:
    """The site's database as an operator names it (never with its password)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return str(settings["NAME"])
    host = settings["HOST"] or "localhost"
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    user = f"{settings['USER']}@" if settings["USER"] else ""
    return f"postgres://{user}{host}{port}/{settings['NAME']}"


def _vendor() -> str:
    if connection.vendor not in KINDS:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {connection.vendor}")
    return connection.vendor


def _census(cursor, vendor: str) -> Census:
    """Count the tables and the COUNTED rows through a DB-API cursor (missing tables: 0)."""
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    else:
        cursor.execute(
            "SELECT tablename FROM pg_catalog.pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
    tables = {name for (name,) in cursor.fetchall()}
    counts = {}
    for noun, model in COUNTED.items():
        table = model._meta.db_table
        counts[noun] = 0
        if table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[noun] = cursor.fetchone()[0]
    return Census(tables=len(tables), counts=counts)


@contextmanager
def _partial(beside: Path) -> Iterator[Path]:
    """A temporary file next to `beside` (same file system, so renaming it is atomic), removed
    unless it was renamed away."""
    beside.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{beside.name}.", suffix=".partial", dir=beside.parent)
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
    finally:
        partial.unlink(missing_ok=True)


def _durable(path: Path) -> None:
    """Flush the file and its folder's entry to disk, so a crash after the rename keeps both."""
    for target, flags in ((path, os.O_RDONLY), (path.parent, os.O_RDONLY | os.O_DIRECTORY)):
        handle = os.open(target, flags)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _publish(partial: Path, path: Path, *, force: bool) -> None:
    """Give the finished file its name; without `force`, never over a file that appeared."""
    _durable(partial)
    if force:
        os.replace(partial, path)
    else:
        try:
            os.link(partial, path)  # fails if PATH exists, however late it appeared
        except FileExistsError:
            raise BackupError(f"{path} exists: pass --force to replace it") from None
        partial.unlink()
    _durable(path)


def _sqlite_readable(db: sqlite3.Connection, path: Path) -> None:
    try:
        problems = [row[0] for row in db.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as error:
        problems = [str(error)]
    if problems != ["ok"]:
        raise BackupError(f"{path} is damaged: {'; '.join(problems[:3])}")


def _pause(status: int, remaining: int, total: int) -> None:
    time.sleep(STEP_PAUSE)


def _sqlite_backup(source: Path, partial: Path) -> Census:
    with (
        closing(sqlite3.connect(source, timeout=20, isolation_level=None)) as live,
        closing(sqlite3.connect(partial, isolation_level=None)) as copy,
    ):
        # One read transaction for the whole copy: every step reads the same snapshot (WAL
        # keeps it while writers commit), so the copy is one instant and never starts over.
        live.execute("BEGIN")
        live.execute("SELECT count(*) FROM sqlite_master").fetchone()
        live.backup(copy, pages=PAGES_PER_STEP, progress=_pause, sleep=BUSY_SLEEP)
        live.execute("COMMIT")
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        _sqlite_readable(copy, partial)
        return _census(copy.cursor(), "sqlite")


def _pg_client(*args: str) -> tuple[list[str], dict[str, str]]:
    """A PostgreSQL client command on the site's database; the password goes by environment."""
    settings = connection.settings_dict
    command = [*args, "--no-password", f"--dbname={settings['NAME']}"]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings[key]:
            command.append(f"{option}={settings[key]}")
    env = dict(os.environ)
    if settings["PASSWORD"]:
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    if sslmode := settings.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = sslmode
    return command, env


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} not found: {PG_CLIENT_HINT}") from None
    if result.returncode:
        code = result.returncode
        status = f"exit status {code}" if code > 0 else f"killed by signal {-code}"
        raise BackupError(f"{command[0]} failed: {result.stderr.strip() or status}")


def _pg_backup(partial: Path) -> Census:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        # pg_dump reads the snapshot this transaction holds: the counts below are of its rows.
        command, env = _pg_client("pg_dump", "--format=custom", f"--snapshot={snapshot}")
        _run([*command, f"--file={partial}"], env)
        census = _census(cursor, "postgresql")
    _run(["pg_restore", "--list", str(partial)])
    return census


def _sqlite_files(database: Path) -> set[Path]:
    return {database.with_name(database.name + s).resolve() for s in ("", *SUFFIXES)}


def backup_write(*, path: Path, force: bool = False) -> Written:
    """Write a consistent copy of the site's database to `path` while the site serves."""
    vendor = _vendor()
    path = Path(path).absolute()
    if path.is_dir():
        raise BackupError(f"{path} is a folder: give the backup file's path")
    if path.exists() and not force:
        raise BackupError(f"{path} exists: pass --force to replace it")
    live = Path(connection.settings_dict["NAME"]).absolute()
    if vendor == "sqlite" and path.resolve() in _sqlite_files(live):
        raise BackupError(f"{path} is the site's database itself: choose another path")
    with _partial(path) as partial:
        census = _sqlite_backup(live, partial) if vendor == "sqlite" else _pg_backup(partial)
        size = partial.stat().st_size
        _publish(partial, path, force=force)
    return Written(path=path, size=size, kind=vendor, census=census)


def backup_kind(path: Path) -> str:
    """Which database a backup file is for, from its first bytes: "sqlite" or "postgresql"."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a folder, not a backup file") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(
        f"{path} is not a shipwith backup: neither a SQLite database nor a pg_dump archive "
        "(custom format)"
    )


def _target_census(vendor: str) -> Census:
    """What the target database holds now (a SQLite file that does not exist holds nothing)."""
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            return _census(cursor, vendor)
    target = Path(connection.settings_dict["NAME"])
    if not target.exists():
        return Census(tables=0, counts=dict.fromkeys(COUNTED, 0))
    try:
        with closing(sqlite3.connect(target, timeout=20)) as db:
            return _census(db.cursor(), vendor)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{target} is not an empty database (cannot read it: {error})") from None


def _sqlite_restore(path: Path) -> None:
    target = Path(connection.settings_dict["NAME"]).absolute()
    connection.close()  # no connection of ours may hold the file that is about to be replaced
    with closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)) as backup:
        _sqlite_readable(backup, path)
        with _partial(target) as partial:
            with closing(sqlite3.connect(partial)) as copy:
                backup.backup(copy, pages=PAGES_PER_STEP)
            _durable(partial)
            for suffix in SUFFIXES:  # an empty database's leftovers, never replayed onto ours
                target.with_name(target.name + suffix).unlink(missing_ok=True)
            os.replace(partial, target)
            _durable(target)


def _pg_restore(path: Path, database: str) -> None:
    try:
        _run(["pg_restore", "--list", str(path)])
    except BackupError as error:
        raise BackupError(f"{path} is damaged: {error}") from None
    command, env = _pg_client("pg_restore", "--no-owner", "--exit-on-error", "--single-transaction")
    try:
        _run([*command, str(path)], env)
    except BackupError as error:
        raise BackupError(
            f"{path} could not be restored, so nothing was: {database} is still empty\n{error}"
        ) from None


def _migrations_applied() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
        return cursor.fetchone()[0]


def backup_restore(*, path: Path) -> Restored:
    """Put a backup into the site's empty database and migrate it to the current schema."""
    vendor, path = _vendor(), Path(path)
    kind, database = backup_kind(path), database_label()
    if kind != vendor:
        raise BackupError(
            f"{path} is a {KINDS[kind]} backup, but this site's database is {KINDS[vendor]} "
            f"({database}): restore it with DATABASE_URL naming an empty {KINDS[kind]} database"
        )
    found = _target_census(vendor)
    if found.tables:
        raise BackupError(
            f"{database} already holds data ({found}): restore goes into an empty database "
            "only, and nothing was changed. Point SHIPWITH_HOME or DATABASE_URL at a new, empty "
            "database (PostgreSQL: createdb NAME), restore there, then move the site over."
        )
    if vendor == "sqlite":
        _sqlite_restore(path)
    else:
        _pg_restore(path, database)
    before = _migrations_applied()
    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        census = _census(cursor, vendor)
    return Restored(
        path=path.absolute(),
        database=database,
        migrations=_migrations_applied() - before,
        census=census,
    )
