"""What `serve` loads before it forks its workers, so that they share it copy-on-write, and what it
leaves out: modules imported after the fork cost every worker its own copy (README, Performance)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.server import Server


def test_the_supervisor_maps_the_workers_event_loop_and_not_cryptography(tmp_path) -> None:
    pytest.importorskip("uvloop")
    with Server(tmp_path).start("--workers", "1") as server:
        assert server.process is not None
        mapped = Path(f"/proc/{server.process.pid}/maps").read_text()
    assert "uvloop/loop." in mapped  # imported by the supervisor, not by each worker
    assert "cryptography" not in mapped  # only two-factor sign-in needs it, and imports it then


def test_building_the_app_imports_its_database_driver(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}"
    script = (
        "import sys\n"
        "from notes_service import create_app\n"
        f"create_app({{'database_url': {url!r}, 'secret_key': 'x' * 32}})\n"
        "print('aiosqlite' in sys.modules, 'sqlalchemy.dialects.sqlite.aiosqlite' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
