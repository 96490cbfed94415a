"""Reads whose rows have a declared type: a statement and the NamedTuple its rows are.

A service declares the shape of each query as a NamedTuple (its fields are the statement's column
names, in order) and pairs the two in a `Read`; `Store.rows(read)` then returns instances of that
type, so `note.version` in a route is type-checked. The fast read path builds them as it built its
own namedtuples (`_make`, no validation), and the pairing is checked when the statement is compiled
(`compiled.compile_select`): a field that is not the column in its place fails the first read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy.sql import Select

# A NamedTuple class (`_fields`, `_make`); bound to tuple, which is what the type checker knows of it.
Row = TypeVar("Row", bound=tuple[Any, ...])


@dataclass(frozen=True, eq=False)  # by identity: the compiled cache holds each read's statement once
class Read(Generic[Row]):
    """A SELECT whose rows are `row`s: its columns are the row type's fields, in order."""

    statement: Select[*tuple[Any, ...]]
    row: type[Row]

    @property
    def make_one(self) -> Callable[[Iterable[Any]], Row]:
        """The row type's `_make`: a tuple in column order as a `row`."""
        make: Callable[[Iterable[Any]], Row] = cast(Any, self.row)._make  # every NamedTuple has it
        return make

    def make(self, rows: Iterable[Any]) -> list[Row]:
        """Rows of the statement (tuples in column order) as `row`s."""
        make = self.make_one
        return [make(row) for row in rows]


def fields_of(row: type[tuple[Any, ...]]) -> tuple[str, ...]:
    """A NamedTuple class's field names, in order."""
    fields: tuple[str, ...] = cast(Any, row)._fields  # every NamedTuple has it
    return fields


def columns(row: type[tuple[Any, ...]], table: type[Any]) -> tuple[Any, ...]:
    """The table's columns named like the row type's fields, in its order (a field that is no stored
    column, like `User.two_factor`, is a labelled `column_property` of the table)."""
    return tuple(getattr(table, name) for name in fields_of(row))
