"""Settings come from the environment; a fresh install needs none of it."""

import os
import subprocess
import sys

import pytest

PRINT_SETTINGS = (
    "import django, json; from django.conf import settings; django.setup();"
    "from django.db import connection;"
    "mode = connection.cursor().execute('PRAGMA journal_mode').fetchone()[0] "
    "if connection.vendor == 'sqlite' else None;"
    "print(json.dumps({'key': settings.SECRET_KEY, 'debug': settings.DEBUG,"
    "'engine': settings.DATABASES['default']['ENGINE'],"
    "'name': str(settings.DATABASES['default']['NAME']), 'journal': mode,"
    "'hosts': settings.ALLOWED_HOSTS, 'llm': settings.SHIPWITH_LLM}))"
)


def read_settings(home, cwd, **env):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("SHIPWITH_", "DATABASE_URL"))
    }
    environment.update(SHIPWITH_HOME=str(home), DJANGO_SETTINGS_MODULE="shipwith.settings", **env)
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return __import__("json").loads(result.stdout)


def test_defaults_use_sqlite_in_wal_mode_and_keep_a_generated_secret(tmp_path):
    home = tmp_path / "var"
    first = read_settings(home, tmp_path)

    assert first["engine"] == "django.db.backends.sqlite3"
    assert first["name"] == str(home / "shipwith.sqlite3")
    assert first["journal"] == "wal"
    assert first["debug"] is False
    assert first["llm"] == "local"
    assert len(first["key"]) >= 50
    assert (home / "secret_key").stat().st_mode & 0o077 == 0
    assert read_settings(home, tmp_path)["key"] == first["key"]


def test_processes_starting_together_agree_on_one_generated_secret(tmp_path, monkeypatch):
    # `shipwith up` starts gunicorn and the worker at once: on a fresh home neither may crash.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from shipwith.config import secret_key

    monkeypatch.delenv("SHIPWITH_SECRET_KEY", raising=False)
    for attempt in range(20):
        home = tmp_path / str(attempt)
        home.mkdir()
        barrier = threading.Barrier(8)

        def start(_, home=home, barrier=barrier):
            barrier.wait()
            return secret_key(home)

        with ThreadPoolExecutor(8) as pool:
            keys = list(pool.map(start, range(8)))
        assert len(set(keys)) == 1 and len(keys[0]) >= 50
        assert [path.name for path in home.iterdir()] == ["secret_key"]
        assert (home / "secret_key").stat().st_mode & 0o077 == 0


def test_a_dotenv_file_in_the_working_directory_is_read(tmp_path):
    (tmp_path / ".env").write_text(
        "SHIPWITH_SECRET_KEY=from-dotenv\nSHIPWITH_ALLOWED_HOSTS=shipwith.example,localhost\n"
        "SHIPWITH_LLM=openai:gpt-4o-mini\n"
    )
    values = read_settings(tmp_path / "var", tmp_path)

    assert values["key"] == "from-dotenv"
    assert values["hosts"] == ["shipwith.example", "localhost"]
    assert values["llm"] == "openai:gpt-4o-mini"
    assert not (tmp_path / "var" / "secret_key").exists()


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL run only"
)
def test_database_url_points_at_postgresql(tmp_path):
    values = read_settings(tmp_path / "var", tmp_path, DATABASE_URL=os.environ["DATABASE_URL"])
    assert values["engine"] == "django.db.backends.postgresql"
