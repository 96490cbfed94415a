"""The adapter between SQLAlchemy's compiler and the raw drivers (data/compiled.py).

These fail loudly if a SQLAlchemy upgrade changes what the public API the adapter relies on returns:
the SQL text, the driver's parameter order, and the types' bind and result converters.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from notes_service.data.compiled import CompiledCache, compile_select
from notes_service.data.models import Note
from notes_service.data.types import UTCDateTime

MOMENT = datetime(2026, 11, 29, 12, 30, tzinfo=UTC)
STATEMENT = select(Note.id, Note.is_pinned, Note.created_at).where(
    Note.author_id == bindparam("author_id"),
    Note.created_at < bindparam("before", type_=UTCDateTime),
    Note.is_pinned == bindparam("pinned", type_=Boolean),
)


def test_sqlite_parameters_come_in_order_through_their_converters() -> None:
    compiled = compile_select(STATEMENT, sqlite.dialect())
    assert compiled.sql.count("?") == 3
    arguments = compiled.arguments({"author_id": 7, "before": MOMENT, "pinned": True})
    # SQLite keeps UTC as naive text: the UTCDateTime and DateTime converters both ran.
    assert arguments == [7, "2026-11-29 12:30:00.000000", 1]


def test_sqlite_rows_come_back_converted_and_named() -> None:
    compiled = compile_select(STATEMENT, sqlite.dialect())
    (row,) = compiled.rows([(3, 1, "2026-11-29 12:30:00.000000")])
    assert (row.id, row.is_pinned, row.created_at) == (3, True, MOMENT)
    assert row.created_at.tzinfo is not None


def test_postgresql_parameters_are_numbered_and_datetimes_stay_aware() -> None:
    dialect = postgresql.asyncpg.dialect()  # type: ignore[attr-defined]
    compiled = compile_select(STATEMENT, dialect)
    assert "$1" in compiled.sql and "$3" in compiled.sql
    assert compiled.arguments({"author_id": 7, "before": MOMENT, "pinned": False}) == [7, MOMENT, False]


def test_postgresql_rows_need_no_converter() -> None:
    # asyncpg reads timestamptz as aware UTC datetimes; rows then go to the namedtuple as they come.
    compiled = compile_select(STATEMENT, postgresql.asyncpg.dialect())  # type: ignore[attr-defined]
    assert compiled.processors == []
    assert compiled.rows([(3, True, MOMENT)])[0].created_at is MOMENT


def test_an_unnamed_column_gets_a_positional_name() -> None:
    compiled = compile_select(select(func.count()).select_from(Note), sqlite.dialect())
    assert compiled.rows([(5,)])[0][0] == 5


def test_the_cache_keeps_each_statement_it_compiled_and_drops_the_oldest() -> None:
    cache = CompiledCache(sqlite.dialect(), size=2)
    first, second, third = (select(Note.id).where(Note.id == number) for number in range(3))
    assert cache.get(first) is cache.get(first)
    cache.get(second)
    cache.get(third)  # over the size: `first` goes
    assert list(cache._entries) == [second, third]
