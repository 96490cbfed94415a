"""SQLite's search statements keep FTS5 from running a full-text query once per rowid: a rowid
list (`IN (…)`) handed to an FTS5 table as `rowid = ?` made "sea otter beach walk" take 14 s over
40,000 notes (24 ms without). Checked on the plan, for every shape of query."""

from __future__ import annotations

import itertools
import re

import pytest

from notes_service.services import search_fts5
from notes_service.services.search_query import parse

QUERIES = [
    " ".join(parts)
    for parts in itertools.product(["", "sea otter"], ["", "bea*"], ["", "tag:work"], ["", "walk"])
    if any(parts[:2]) or parts[3]
]


@pytest.mark.parametrize("query", QUERIES)
async def test_no_fts5_table_is_given_a_rowid_to_look_up(app, store, database_url, query) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("FTS5 is SQLite's")
    parsed = parse(query)
    shape = search_fts5.Shape.of(parsed)
    values = {**search_fts5.params(parsed, 1, 2**63 - 1, 2**63 - 1), "author_id": 1}
    for read, extra in (
        (search_fts5.page(shape), {"window": 5, "limit": 5, "offset": 0}),
        (search_fts5.count(shape), {"cap": 5}),
    ):
        compiled = read.statement.compile(dialect=store.database.engine.dialect)
        bound = compiled.construct_params({**values, **extra})
        arguments = tuple(bound[name] for name in compiled.positiontup or ())
        async with store.database.engine.connect() as connection:
            plan = (
                await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, arguments)
            ).all()
        fts5_scans = [row[3] for row in plan if "VIRTUAL TABLE" in row[3]]
        assert fts5_scans and not any(re.search(r"INDEX \d+:=", scan) for scan in fts5_scans), fts5_scans


async def test_postgres_searches_read_the_gin_index(app, store, database_url) -> None:
    """`search.DOCUMENT` must be the migration's indexed expression to the letter, or PostgreSQL
    reads every note of the author (with sequential scans off, the plan says which index it uses)."""
    if database_url.startswith("sqlite"):
        pytest.skip("the GIN index is PostgreSQL's")
    from sqlalchemy import select

    from notes_service.data.models import Note
    from notes_service.services import search

    parsed = parse("quokka tea* runn")
    matches = select(Note.id).where(search.DOCUMENT.op("@@")(search._tsquery(search_fts5.Shape.of(parsed))))
    compiled = matches.compile(dialect=store.database.engine.dialect)
    bound = compiled.construct_params(search._postgres_params(parsed))
    arguments = tuple(bound[name] for name in compiled.positiontup or ())
    async with store.database.engine.connect() as connection:
        await connection.exec_driver_sql("SET enable_seqscan = off")
        plan = (await connection.exec_driver_sql("EXPLAIN " + compiled.string, arguments)).all()
    assert any("ix_notes_search" in row[0] for row in plan), plan
