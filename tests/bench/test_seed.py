"""The benchmark's seeding: every server's database takes the rows written for it."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bench import seed

pytestmark = pytest.mark.sqlite_pass_only


def test_the_fastapi_baseline_gets_the_service_rows_without_two_factor_columns(tmp_path: Path) -> None:
    pytest.importorskip("fastapi", reason="the bench extra (make bench installs it)")
    dataset = seed.make_dataset()
    path = tmp_path / "fastapi.db"
    seed.fastapi_sqlite(path, dataset, "hash")
    with closing(sqlite3.connect(path)) as db:
        notes = db.execute("SELECT count(*) FROM notes WHERE author_id = ?", (dataset.reader.id,)).fetchone()
    assert notes == (seed.READER_NOTES,)
