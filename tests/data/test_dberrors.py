"""One-line descriptions of database problems never show the URL's password."""

from __future__ import annotations

from notes_service.data.dberrors import describe, one_line

URL = "postgresql+asyncpg://notes:Sup3r-s3cret@db.internal:6432/notes"


def test_a_password_echoed_by_a_driver_is_redacted() -> None:
    error = ConnectionRefusedError("refused for notes:Sup3r-s3cret@db.internal")
    assert describe(error, URL) == "cannot connect to db.internal:6432: refused for notes:***@db.internal"
    assert "Sup3r-s3cret" not in one_line(RuntimeError("boom Sup3r-s3cret"), URL)


def test_what_is_not_a_database_problem_is_left_alone() -> None:
    assert describe(KeyError("x"), URL) is None
    assert describe(KeyError("x"), "not a url") is None
    assert one_line(KeyError("x"), URL) == "KeyError: 'x'"
