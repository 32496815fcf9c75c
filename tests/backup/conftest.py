"""Sites for backup and restore tests: each with a home and a database of its own, of the kind
the run uses (PostgreSQL when DATABASE_URL names one, else SQLite in SHIPWITH_HOME), driven
through the `shipwith` command line in child processes as an operator would."""

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))
needs_postgres = pytest.mark.skipif(
    not POSTGRES, reason="needs PostgreSQL (set DATABASE_URL to a postgres:// URL)"
)

# Three tools with a full panel each, two subscribers and a few votes.
SEED = """
from django.utils import timezone
from shipwith.newsletter.subscribers import subscription_confirm
from shipwith.votes.services import vote_cast, voter_create
from tests.factories import make_panel, make_tool
tools = [make_tool(f"tool-{n}") for n in range(3)]
for tool in tools:
    make_panel(tool, "ssks")
for n in range(2):
    subscription_confirm(email=f"seed{n}@example.com", category_ids=[], issued_at=timezone.now())
for n, tool in enumerate(tools):
    vote_cast(voter_id=voter_create().pk, tool_id=tool.pk, value="ship" if n else "skip")
"""


def _postgres_admin(*statements: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(DATABASE_URL)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        for statement in statements:
            db.execute(statement)


def _postgres_url(name: str) -> str:
    return urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{name}"))


@dataclass
class Site:
    """One shipwith install: a home folder and, on PostgreSQL, a database of its own."""

    home: Path
    database_url: str = ""  # empty: SQLite in SHIPWITH_HOME, DATABASE_URL unset

    @property
    def sqlite_file(self) -> Path:
        return self.home / "shipwith.sqlite3"

    @property
    def database(self) -> str:
        """The database as the commands name it in their messages."""
        return (
            urlsplit(self.database_url).path.lstrip("/")
            if self.database_url
            else str(self.sqlite_file)
        )

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "SHIPWITH_HOME": str(self.home),
            "SHIPWITH_SECRET_KEY": "backup-tests",
            "PYTHONPATH": str(ROOT),
        }
        env.pop("DATABASE_URL", None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "shipwith", *map(str, args)]

    def cli(self, *args, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            self.command(*args), env=self.env(), cwd=self.home, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        if check:
            assert result.returncode == 0, result.stderr[-3000:]
        return result

    def query(self, sql: str) -> list[tuple]:
        if not self.database_url:
            with contextlib.closing(sqlite3.connect(self.sqlite_file)) as db, db:
                return db.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.database_url) as db:
            cursor = db.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def tables(self) -> int:
        """Tables in the database (a SQLite file that does not exist holds none)."""
        if not self.database_url:
            if not self.sqlite_file.exists():
                return 0
            sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        else:
            sql = (
                "SELECT count(*) FROM pg_catalog.pg_tables "
                "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            )
        return self.query(sql)[0][0]


@pytest.fixture
def new_database():
    """Make empty databases (PostgreSQL: created here, dropped after the test)."""
    made = []

    def make(prefix: str) -> str:
        name = f"shipwith_backup_{prefix}_{uuid.uuid4().hex[:10]}"
        _postgres_admin(f'CREATE DATABASE "{name}"')
        made.append(name)
        return _postgres_url(name)

    yield make
    for name in made:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    """A migrated, seeded site that each test copies (migrating takes seconds)."""
    home = tmp_path_factory.mktemp("backup-template")
    name = f"shipwith_backup_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    if POSTGRES:
        _postgres_admin(f'CREATE DATABASE "{name}"')
    site = Site(home, _postgres_url(name) if POSTGRES else "")
    site.cli("migrate", "-v0")
    site.cli("shell", "-c", SEED)
    yield site
    if POSTGRES:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def site(tmp_path, template, new_database):
    """A serving site's data: a copy of the template in a home of its own."""
    home = tmp_path / "site"
    home.mkdir()
    if not POSTGRES:
        shutil.copy(template.sqlite_file, home / "shipwith.sqlite3")
        return Site(home)
    url = new_database("src")
    name = urlsplit(url).path.lstrip("/")
    template_name = urlsplit(template.database_url).path.lstrip("/")
    _postgres_admin(
        f'DROP DATABASE "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'
    )
    return Site(home, url)


@pytest.fixture
def empty_site(tmp_path, new_database):
    """A fresh home whose database is empty, of the run's kind (call with "sqlite" or
    "postgres" to choose)."""

    def make(kind: str = "postgres" if POSTGRES else "sqlite") -> Site:
        home = tmp_path / f"fresh-{uuid.uuid4().hex[:6]}"
        home.mkdir()
        return Site(home, new_database("dst") if kind == "postgres" else "")

    return make
