"""Read configuration from the environment (and a `.env` file in the working directory)."""

import contextlib
import hashlib
import os
import secrets
import tempfile
from pathlib import Path

from dotenv import load_dotenv

load_dotenv(Path.cwd() / ".env")


def env(name: str, default: str = "") -> str:
    """The variable's value; an empty (or blank) one counts as unset, like a missing one."""
    value = os.environ.get(name, "")
    return value if value.strip() else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


# SHA-256 of secret keys that were published (committed to the repository until 2026-12):
# anyone can forge voter cookies and newsletter links with them, so they are never used.
PUBLISHED_KEYS = frozenset({"f45efbf1c9c237219029dff0bf9871bcc0b06e962de39b087ab5287ea5bf5465"})


class ConfigError(Exception):
    """A setting that shipwith refuses to start with; the message says which and how to fix."""


def home_dir() -> Path:
    """Return the folder for local state (SQLite file, secret key, static files).

    A folder we create gets a `.gitignore` of `*`, so nothing in it (the key, the database)
    can be committed by mistake wherever it lives.
    """
    path = Path(env("SHIPWITH_HOME", str(Path.cwd() / "var"))).resolve()
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            with open(path / ".gitignore", "x") as handle:
                handle.write("# shipwith's local state: the secret key, the database.\n*\n")
    return path


def secret_key(home: Path) -> str:
    """Return SHIPWITH_SECRET_KEY, or a key generated on first run and kept in `home` (0600)."""
    if key := env("SHIPWITH_SECRET_KEY"):
        _refuse_published(key, "SHIPWITH_SECRET_KEY")
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
    elif key_file.stat().st_mode & 0o077:
        key_file.chmod(0o600)  # a copy or an old install left it readable by others
    key = key_file.read_text().strip()
    _refuse_published(key, str(key_file))
    return key


def _refuse_published(key: str, where: str) -> None:
    if hashlib.sha256(key.encode()).hexdigest() in PUBLISHED_KEYS:
        raise ConfigError(
            f"{where}: this secret key was published in shipwith's repository, so anyone can "
            "forge voter cookies and newsletter links with it. Delete the key file (a new one "
            "is generated) or set SHIPWITH_SECRET_KEY to a new secret; see the README's "
            "'Rotating the secret key'."
        )
