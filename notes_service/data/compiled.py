"""The one adapter between SQLAlchemy's compiler and a raw driver: statements compiled once.

The fast read path (`reads.py`) runs SQLAlchemy Core statements straight on sqlite3 or asyncpg,
because SQLAlchemy's per-execution bookkeeping costs more than an indexed read
(docs/performance.md). What it needs from SQLAlchemy is the compiled SQL, the driver's parameter order and
each column type's bind and result converters. All of that comes through public API only
(`Compiled.string`, `.positiontup`, `.binds`, `.construct_params`, `TypeEngine.dialect_impl`,
`.bind_processor`, `.result_processor`); `tests/data/test_compiled.py` fails loudly if an upgrade
changes what they return.

Compiled statements are cached by the statement object itself, held strongly in a bounded LRU: a
cached entry keeps its statement alive, so an id can never be reused by another statement, and a
statement built per call only costs a compile.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler

from .rowtypes import Read, fields_of
from .types import UTCDateTime

Converter = Callable[[Any], Any]
Columns = TypeVarTuple("Columns")
CACHE_SIZE = 256
# Statements whose one plan fits every parameter value (see `generic_plan`).
_GENERIC_PLANS: set[Select[*tuple[Any, ...]]] = set()


def generic_plan(statement: Select[*Columns]) -> Select[*Columns]:
    """Mark a read whose best plan does not depend on its parameters' values (a lookup by a unique
    key, or an author's page along the author's ordered index): on PostgreSQL it runs planned once
    per connection instead of at every execution.

    PostgreSQL plans a prepared statement anew at each execution (a "custom" plan) until the plan
    made without the parameters' values costs no more than the custom ones; a page's `LIMIT $n`,
    costed as 10 % of the rows without its value, keeps it re-planning forever (measured: the
    backends' CPU per `GET /api/notes`, 295 → 145 µs in process with generic plans). Only for
    statements checked with `EXPLAIN` under `plan_cache_mode = force_generic_plan`; a search, whose
    best plan depends on what it looks for, keeps per-execution plans.
    """
    _GENERIC_PLANS.add(statement)
    return statement


@dataclass(frozen=True)
class Compiled:
    """A statement compiled for one backend, with the converters of its parameters and columns."""

    sql: str
    compiler: SQLCompiler
    binders: dict[str, Converter]  # parameter name -> converter, where the type has one
    processors: list[tuple[int, Converter]]  # (column index, converter), where the type has one
    make_row: Callable[[Iterable[Any]], Any]  # the row type's (or a namedtuple class's) _make
    generic_plan: bool = False  # marked with `generic_plan`

    def arguments(self, params: dict[str, Any]) -> list[Any]:
        """`params` in the driver's positional order, through the parameters' bind converters."""
        values = self.compiler.construct_params(params)
        binders = self.binders
        return [
            binders[name](values[name]) if name in binders else values[name]
            for name in self.compiler.positiontup or ()
        ]

    def rows(self, raw_rows: Sequence[Any]) -> list[Any]:
        """Driver rows as named rows, each value through its column's result converter."""
        make, convert = self.make_row, self.processors
        if not convert:
            return [make(raw_row) for raw_row in raw_rows]
        rows = []
        for raw_row in raw_rows:
            row = list(raw_row)
            for index, process in convert:
                row[index] = process(row[index])
            rows.append(make(row))
        return rows


def compile_select(read: Select[*Columns] | Read[Any], dialect: Dialect) -> Compiled:
    """`read` compiled for `dialect`, with every converter looked up once; a `Read`'s rows are its
    row type, checked here against the statement's columns."""
    statement = read.statement if isinstance(read, Read) else read
    compiler = statement.compile(dialect=dialect)
    assert isinstance(compiler, SQLCompiler)
    binders: dict[str, Converter] = {}
    for name, parameter in compiler.binds.items():
        if (bind := parameter.type.dialect_impl(dialect).bind_processor(dialect)) is not None:
            binders[name] = bind
    columns = statement.selected_columns
    processors: list[tuple[int, Converter]] = []
    for index, column in enumerate(columns):
        if (result := result_converter(column.type, dialect)) is not None:
            processors.append((index, result))
    names = [str(column.key) for column in columns]
    make_row: Callable[[Iterable[Any]], Any]
    if isinstance(read, Read):
        if fields_of(read.row) != tuple(names):
            raise TypeError(
                f"{read.row.__name__} has the fields {fields_of(read.row)}, its read the columns {names}"
            )
        make_row = read.make_one
    else:  # unnamed expressions (a bare count) get positional names
        row = namedtuple("Row", names, rename=True)  # type: ignore[misc]  # names known only here
        make_row = row._make
    return Compiled(
        sql=compiler.string,
        compiler=compiler,
        binders=binders,
        processors=processors,
        make_row=make_row,
        generic_plan=statement in _GENERIC_PLANS,
    )


def result_converter(column_type: Any, dialect: Dialect) -> Converter | None:
    """The column type's own converter, except for UTC datetimes: parsed by the C parser on SQLite,
    and none on asyncpg, which reads `timestamptz` as aware UTC datetimes already (the type's own
    converter would only check each one's tzinfo, a Python call per value)."""
    if isinstance(column_type, UTCDateTime):
        if dialect.name == "sqlite":
            return _sqlite_utc_datetime
        if dialect.driver == "asyncpg":
            return None
    converter: Converter | None = column_type.dialect_impl(dialect).result_processor(dialect, None)
    return converter


def _sqlite_utc_datetime(value: str | None) -> datetime | None:
    # One parse with the offset appended: 0.5 µs, against 2.8 µs for parse-then-`replace(tzinfo=UTC)`.
    return None if value is None else datetime.fromisoformat(value + "+00:00")


class CompiledCache:
    """Compiled statements for one dialect, least recently used dropped first."""

    def __init__(self, dialect: Dialect, size: int = CACHE_SIZE) -> None:
        self.dialect = dialect
        self.size = size
        self._entries: OrderedDict[Select[*tuple[Any, ...]] | Read[Any], Compiled] = OrderedDict()

    def get(self, statement: Select[*Columns] | Read[Any]) -> Compiled:
        found = self._entries.get(statement)
        if found is not None:
            self._entries.move_to_end(statement)
            return found
        compiled = self._entries[statement] = compile_select(statement, self.dialect)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return compiled
