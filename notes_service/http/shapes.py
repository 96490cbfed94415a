"""Rows to the JSON shapes of `http/schemas.py`: each output model is the single source of its shape.

A service selects exactly the columns its output model names (`columns_of`), and a route writes a
row through the same model (`dump`): plain dicts, never re-validated on the hot path. The tests check
every API response against the model its route documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from pydantic import BaseModel


@cache
def fields_of(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)


def columns_of(model: type[BaseModel], table: type[Any]) -> tuple[Any, ...]:
    """The table's columns named like the model's fields, in the model's order (a field that is no
    stored column, like `User.two_factor`, is a labelled `column_property` of the model)."""
    return tuple(getattr(table, name) for name in fields_of(model))


def dump(model: type[BaseModel], row: Any) -> dict[str, Any]:
    """`row` (anything with the model's field names as attributes) as the model's JSON object."""
    return {name: getattr(row, name) for name in fields_of(model)}


def dump_all(model: type[BaseModel], rows: Iterable[Any]) -> list[dict[str, Any]]:
    names = fields_of(model)
    return [{name: getattr(row, name) for name in names} for row in rows]
