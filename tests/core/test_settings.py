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
    environment.update({"SHIPWITH_HOME": str(home), "DJANGO_SETTINGS_MODULE": "shipwith.settings"})
    environment.update(env)
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
    assert first["llm"] == "auto"
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


def test_an_empty_home_or_setting_counts_as_unset(tmp_path):
    # SHIPWITH_HOME="" once meant the working directory, where a clone kept a published key.
    shown = read_settings(
        tmp_path / "ignored",
        tmp_path,
        SHIPWITH_HOME="",
        SHIPWITH_LLM=" ",
        SHIPWITH_ALLOWED_HOSTS="",
    )
    assert shown["name"] == str(tmp_path / "var" / "shipwith.sqlite3")
    assert (tmp_path / "var" / "secret_key").exists()
    assert not (tmp_path / "secret_key").exists()
    assert shown["llm"] == "auto"
    assert shown["hosts"] == ["127.0.0.1", "localhost", "[::1]"]


def test_a_new_home_is_ignored_by_git_wherever_it_is(tmp_path):
    repo = tmp_path / "deploy-repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    read_settings(repo / "state", repo)
    assert (repo / "state" / "secret_key").stat().st_mode & 0o777 == 0o600
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "secret_key" not in status and "sqlite3" not in status


def test_a_key_file_left_readable_by_others_is_made_private(tmp_path):
    home = tmp_path / "var"
    key = read_settings(home, tmp_path)["key"]
    (home / "secret_key").chmod(0o644)
    assert read_settings(home, tmp_path)["key"] == key
    assert (home / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_published_key_is_refused_with_how_to_fix(tmp_path):
    published = "7TiIXcd6yv-q7rQBj7nJDs5gHDALQx3K4J0jhF9G_3ZD3ULvoF_i1OxLNtt-6URtO-4"
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("SHIPWITH_", "DATABASE_URL"))
    }
    environment.update(SHIPWITH_HOME=str(tmp_path / "var"), SHIPWITH_SECRET_KEY=published)
    result = subprocess.run(
        [sys.executable, "-m", "shipwith", "check"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SHIPWITH_SECRET_KEY: this secret key was published" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_repository_holds_no_key_or_database():
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [path for path in tracked if path.endswith(("secret_key", ".sqlite3"))]
