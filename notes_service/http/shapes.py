"""Rows to the JSON shapes of `http/schemas.py`: each output model, with the service rows it writes.

A service returns typed rows (services/rows.py); a `Shape` pairs an output model with the row types
that carry its fields first, in its order, and writes a row as the model's JSON object: plain dicts,
never re-validated on the hot path. `tests/http/test_rows_and_schemas.py` holds every shape's rows to
its model (the same names, in order, of compatible types), and the API tests check every response
against the model its route documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ..services.rows import (
    ChangedNoteRow,
    ExportedNoteRow,
    NoteRow,
    SearchHit,
    TokenPageRow,
    TokenRow,
    TrashedNoteRow,
    UserRow,
)
from .schemas import ExportedNoteOut, NoteOut, TokenInfo, TrashedNoteOut, UserOut

Row = TypeVar("Row", bound=tuple[Any, ...])


class Shape(Generic[Row]):
    """An output model and the rows it is written from (`rows[0]`: the row of exactly its fields)."""

    def __init__(self, model: type[BaseModel], *rows: type[Row]) -> None:
        self.model = model
        self.rows = rows
        self.fields = tuple(model.model_fields)

    def one(self, row: Row) -> dict[str, Any]:
        """`row` as the model's JSON object (a row's first fields are the model's)."""
        return dict(zip(self.fields, row, strict=False))

    def all(self, rows: Iterable[Row]) -> list[dict[str, Any]]:
        fields = self.fields
        return [dict(zip(fields, row, strict=False)) for row in rows]


NOTE: Shape[NoteRow | SearchHit | TokenPageRow] = Shape(NoteOut, NoteRow, SearchHit, TokenPageRow)
TRASHED_NOTE: Shape[TrashedNoteRow] = Shape(TrashedNoteOut, TrashedNoteRow)
EXPORTED_NOTE: Shape[ExportedNoteRow | ChangedNoteRow] = Shape(
    ExportedNoteOut, ExportedNoteRow, ChangedNoteRow
)
USER: Shape[UserRow] = Shape(UserOut, UserRow)
TOKEN: Shape[TokenRow] = Shape(TokenInfo, TokenRow)
SHAPES: tuple[Shape[Any], ...] = (NOTE, TRASHED_NOTE, EXPORTED_NOTE, USER, TOKEN)
