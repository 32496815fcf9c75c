"""Read configuration from the environment (and a `.env` file in the working directory)."""

import os
import secrets
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
        # Create with 0600 in one step so the key is never world-readable.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()
