"""What `serve` loads before it forks its workers, so that they share it copy-on-write, and what it
leaves out: modules imported after the fork cost every worker its own copy (docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.server import Server

pytestmark = pytest.mark.sqlite_pass_only


def _supervisor_maps(tmp_path: Path) -> str:
    """What the supervisor of a running `serve --workers 1` has mapped: its shared libraries."""
    with Server(tmp_path).start("--workers", "1") as server:
        assert server.process is not None
        return Path(f"/proc/{server.process.pid}/maps").read_text()


def test_the_supervisor_imports_the_workers_event_loop(tmp_path) -> None:
    pytest.importorskip("uvloop")
    assert "uvloop/loop." in _supervisor_maps(tmp_path)  # imported once, not by each worker


def test_the_supervisor_leaves_cryptography_to_two_factor_sign_in(tmp_path) -> None:
    mapped = _supervisor_maps(tmp_path)
    assert "libpython" in mapped or "python3" in mapped  # the maps of a live Python process
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
