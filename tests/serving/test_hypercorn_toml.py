"""`serve` reads the repository's hypercorn.toml from wherever it is started: the checkout's file
is the fallback when the current directory has none (it was lost once when the supervisor moved
into serving/, and with it the graceful timeout that lets requests in flight finish)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from notes_service.serving.server import load_config

pytestmark = pytest.mark.sqlite_pass_only

REPOSITORY = Path(__file__).resolve().parents[2]


def test_serve_started_elsewhere_reads_the_checkouts_hypercorn_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shipped = tomllib.loads((REPOSITORY / "hypercorn.toml").read_text())
    config = load_config()
    assert config.graceful_timeout == shipped["graceful_timeout"]
