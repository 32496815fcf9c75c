"""Read configuration from the environment (and a `.env` file in the working directory)."""

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from dotenv import load_dotenv

load_dotenv(Path.cwd() / ".env")


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def home_dir() -> Path:
    """Return the folder for local state (SQLite file, secret key, static files)."""
    path = Path(env("SHIPWITH_HOME", str(Path.cwd() / "var"))).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(home: Path) -> str:
    """Return SHIPWITH_SECRET_KEY, or a key generated on first run and kept in `home`."""
    if key := env("SHIPWITH_SECRET_KEY"):
        return key
    key_file = home / "secret_key"
    if not key_file.exists():
        # Written whole to a 0600 file of our own, then linked into place: two processes
        # starting at once agree on one key, and nobody reads a half-written or readable one.
        fd, draft = tempfile.mkstemp(dir=home, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
            with contextlib.suppress(FileExistsError):  # another process was first: use its key
                os.link(draft, key_file)
        finally:
            os.unlink(draft)
    return key_file.read_text().strip()
