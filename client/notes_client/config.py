"""Where the command line keeps its address and token, and its mirror.

`$XDG_CONFIG_HOME/notes-client/config.json` (else `~/.config/notes-client/`), readable by its owner
only: the directory is made 0700 and the file written 0600 under a temporary name, then renamed, so
the token is never readable by others, not even for a moment, and a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Config:
    url: str
    token: str | None = None


def _base(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / fallback


def config_path() -> Path:
    return _base("XDG_CONFIG_HOME", ".config") / "notes-client" / "config.json"


def default_database() -> Path:
    """The mirror's file for `notes-client sync`: `$XDG_DATA_HOME/notes-client/notes.db`."""
    return _base("XDG_DATA_HOME", ".local/share") / "notes-client" / "notes.db"


def load() -> Config:
    """The saved settings; the default address and no token when nothing is saved yet."""
    try:
        data = json.loads(config_path().read_text())
    except FileNotFoundError:
        return Config(DEFAULT_URL)
    return Config(str(data.get("url") or DEFAULT_URL), data.get("token"))


def save(config: Config) -> Path:
    """Write the settings, owner-only; the file's path."""
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # O_CREAT's mode only applies to a file it creates
        with os.fdopen(descriptor, "w") as file:
            json.dump(asdict(config), file, indent=2)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
