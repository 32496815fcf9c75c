"""Two processes review one tool at once for the first time: versions 1 and 2, no IntegrityError.

Each runs `shipwith review` with its own model, so each opens its own run of the same tool and
persona. They share the test's database: a SQLite file, or PostgreSQL's test database, where a
trigger holds every review insert open so the two writers are sure to overlap.
"""

import os
import subprocess
import sys

import pytest
from django.db import connection

from shipwith.panel.models import Review
from tests.panel.conftest import good_review
from tests.panel.dbfaults import slow_review_inserts_sql
from tests.panel.fault_server import FaultServer, Reply

SHIPWITH = [sys.executable, "-m", "shipwith"]


@pytest.fixture
def server():
    server = FaultServer(default=Reply(good_review(), delay=0.3)).start()
    yield server
    server.stop()


def database_url(tmp_path) -> str:
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'race.sqlite3'}"
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def shipwith(env, *args: str, **kwargs):
    return subprocess.run([*SHIPWITH, *args], env=env, check=True, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_reviews_take_turns(tmp_path, server, personas, make_tool):
    env = os.environ | {
        "DATABASE_URL": database_url(tmp_path),
        "SHIPWITH_HOME": str(tmp_path),
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": "test",
        "SHIPWITH_LLM_RETRIES": "0",
    }
    if connection.vendor == "sqlite":
        shipwith(env, "migrate", "-v0", cwd=tmp_path)
        setup = "from tests.panel.test_panel_race import make; make()"
        shipwith(env | {"PYTHONPATH": os.getcwd()}, "shell", "-c", setup, cwd=tmp_path)
    else:
        make_tool()
        with connection.cursor() as cursor:
            cursor.execute(slow_review_inserts_sql(1.0))
    try:
        outputs, codes = race(env, tmp_path)
    finally:
        if connection.vendor != "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("DROP TRIGGER IF EXISTS slow_review ON panel_review")
    for code, (out, err) in zip(codes, outputs, strict=True):
        assert code == 0, err
        assert "Quillstack: complete" in out, out + err
        assert "IntegrityError" not in out + err
    rows = stored_reviews(tmp_path)
    for key in ("builder", "skeptic", "futurist", "operator"):
        versions = sorted(
            (version, current) for persona, version, current in rows if persona == key
        )
        assert versions == [(1, False), (2, True)], (key, versions)


def race(env, tmp_path):
    reviews = [
        subprocess.Popen(
            [*SHIPWITH, "review", "quillstack", "--model", f"openai:model-{name}"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    outputs = [review.communicate(timeout=120) for review in reviews]
    return outputs, [review.returncode for review in reviews]


def stored_reviews(tmp_path) -> list[tuple[str, int, bool]]:
    if connection.vendor != "sqlite":
        return list(Review.objects.values_list("persona__key", "version", "is_current"))
    import sqlite3

    with sqlite3.connect(tmp_path / "race.sqlite3") as db:
        sql = (
            "select p.key, r.version, r.is_current from panel_review r "
            "join panel_persona p on p.id = r.persona_id"
        )
        return [(key, version, bool(current)) for key, version, current in db.execute(sql)]


def make() -> None:
    """Run in the subprocess of the SQLite case: the tool both reviews judge."""
    from shipwith.catalog.models import Category, Source, Tool

    category = Category.objects.create(name="Coding", slug="coding")
    tool = Tool.objects.create(name="Quillstack", slug="quillstack", category=category)
    Source.objects.create(tool=tool, url="https://example.com/q", snapshot="Quillstack indexes.")
