"""Each API output model and the service rows it is written from (http/shapes.py) stay one shape.

A route writes a row as its model's JSON object without validating it (`Shape.one`: the model's field
names zipped with the row's first values), so a row type must begin with exactly its model's fields,
in the model's order, each of a type the model accepts: a row that may hold None where the model
does not, or a field renamed, added in the middle or reordered on one side only, fails here.
"""

from __future__ import annotations

import types
from datetime import UTC, datetime
from typing import Any, NamedTuple, Union, get_args, get_origin, get_type_hints

import pytest

from notes_service.http import schemas
from notes_service.http.shapes import NOTE, SHAPES, USER, Shape
from notes_service.services.rows import NoteRow, UserRow
from notes_service.services.users import CurrentUser

# The models the API writes from service rows (the others: TokenIssued is built in its route,
# ExportOut is a UserOut and ExportedNoteOuts, Accepted and Error say nothing of a row).
WRITTEN_FROM_ROWS = {
    schemas.NoteOut,
    schemas.TrashedNoteOut,
    schemas.ExportedNoteOut,
    schemas.UserOut,
    schemas.TokenInfo,
}


def alternatives(annotation: Any) -> set[Any]:
    """The types a value of `annotation` can be (the members of a union, else the type itself)."""
    if get_origin(annotation) in (Union, types.UnionType):
        return set(get_args(annotation))
    return {annotation}


def fits(row_type: Any, model_type: Any) -> bool:
    """Every value the row can hold is one the model's field takes as it is."""
    return alternatives(row_type) <= alternatives(model_type)


def mismatches(model: type[schemas.BaseModel], row: type[tuple[Any, ...]]) -> list[str]:
    """How `row`'s first fields differ from `model`'s fields, in names, order and types."""
    model_fields = {name: field.annotation for name, field in model.model_fields.items()}
    row_fields = get_type_hints(row)
    names = list(row_fields)[: len(model_fields)]
    if names != list(model_fields):
        return [f"{row.__name__} starts with {names}, {model.__name__} has {list(model_fields)}"]
    return [
        f"{row.__name__}.{name}: {row_fields[name]} does not fit {model.__name__}.{name}: {model_type}"
        for name, model_type in model_fields.items()
        if not fits(row_fields[name], model_type)
    ]


SHAPE_ROWS = [(shape, row) for shape in SHAPES for row in shape.rows]


@pytest.mark.parametrize(
    ("shape", "row"), SHAPE_ROWS, ids=[f"{shape.model.__name__}-{row.__name__}" for shape, row in SHAPE_ROWS]
)
def test_each_row_type_begins_with_its_models_fields(shape: Shape[Any], row: type[tuple[Any, ...]]) -> None:
    assert mismatches(shape.model, row) == []


@pytest.mark.parametrize("shape", SHAPES, ids=[shape.model.__name__ for shape in SHAPES])
def test_each_models_own_row_type_has_exactly_its_fields(shape: Shape[Any]) -> None:
    own = shape.rows[0]
    assert list(get_type_hints(own)) == list(shape.model.model_fields)


def test_every_model_written_from_rows_has_its_shape() -> None:
    assert {shape.model for shape in SHAPES} == WRITTEN_FROM_ROWS
    export = get_type_hints(schemas.ExportOut)
    assert export["user"] is schemas.UserOut and get_args(export["notes"]) == (schemas.ExportedNoteOut,)


def test_the_current_user_shows_the_user_row() -> None:
    # `USER.one(user.public)`: the signed-in user's fields that the API shows are `UserRow`'s.
    hints = get_type_hints(CurrentUser)
    assert all(hints[name] == kind for name, kind in get_type_hints(UserRow).items())
    assert USER.rows[0] is UserRow


def test_a_row_is_written_as_its_models_object(note_row: NoteRow) -> None:
    assert NOTE.one(note_row) == note_row._asdict()
    assert schemas.NoteOut.model_validate(NOTE.one(note_row)).model_dump() == note_row._asdict()


class Loose(NamedTuple):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None | int


class Renamed(NamedTuple):
    id: int
    title: str


def test_the_check_sees_a_type_the_model_does_not_take_or_another_name() -> None:
    assert mismatches(schemas.TokenInfo, Loose) == [
        "Loose.expires_at: datetime.datetime | None | int does not fit TokenInfo.expires_at: "
        "datetime.datetime | None"
    ]
    assert mismatches(schemas.TokenInfo, Renamed) != []


@pytest.fixture
def note_row() -> NoteRow:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return NoteRow(
        id=1, title="t", content="c", is_pinned=False, created_at=now, updated_at=now, version=2, tags=["a"]
    )
