"""Every read a service declares (`data.Read`, alone or in a `BatchedRead`) has a row type whose
fields are its statement's columns, in order: checked when the statement is compiled, so here for
both databases at once rather than at each read's first use."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

import notes_service.services
from notes_service.data import BatchedRead, Read
from notes_service.data.compiled import compile_select
from notes_service.data.models import Note
from notes_service.services.rows import NoteRow


def declared_reads() -> list[tuple[str, Read[Any]]]:
    reads = []
    for module in pkgutil.iter_modules(notes_service.services.__path__):
        loaded = importlib.import_module(f"notes_service.services.{module.name}")
        for name, value in vars(loaded).items():
            if isinstance(value, BatchedRead):
                value = value.read
            if isinstance(value, Read):
                reads.append((f"{module.name}.{name}", value))
    return reads


READS = declared_reads()
DIALECTS: dict[str, Dialect] = {
    "sqlite": sqlite.dialect(),
    "postgresql": postgresql.asyncpg.dialect(),  # type: ignore[attr-defined]
}


def test_the_services_declare_their_reads() -> None:
    names = {name for name, _ in READS}
    assert {"notes.FIRST_PAGE", "tokens.TOKEN_USER", "first_page.TOKEN_USER_FIRST_PAGE"} <= names


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("name", "read"), READS, ids=[name for name, _ in READS])
def test_each_reads_row_type_is_its_columns(name: str, read: Read[Any], dialect: str) -> None:
    compiled = compile_select(read, DIALECTS[dialect])
    assert compiled.make_row == read.make_one


def test_a_row_type_that_is_not_its_columns_fails_to_compile() -> None:
    swapped = Read(select(Note.id, Note.content, Note.title), NoteRow)
    with pytest.raises(TypeError, match="NoteRow has the fields"):
        compile_select(swapped, DIALECTS["sqlite"])
