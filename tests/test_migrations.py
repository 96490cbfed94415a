"""The migrations build exactly the models' schema, and go back down cleanly."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from alembic import command
from notes_service.cli import alembic_config
from notes_service.data.engine import create_engine
from notes_service.data.types import Base
from notes_service.models import declared_in_models


async def _inspect(url: str, function):  # type: ignore[no-untyped-def]
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(function)
    finally:
        await engine.dispose()


def _diff(connection):  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "render_as_batch": True, "include_name": declared_in_models},
    )
    return compare_metadata(context, Base.metadata)


def _tables(connection) -> set[str]:  # type: ignore[no-untyped-def]
    return set(inspect(connection).get_table_names())


def test_head_schema_equals_models_and_downgrade_to_base_works(database_url: str) -> None:
    # `database_url` is already migrated to head (see conftest).
    assert asyncio.run(_inspect(database_url, _diff)) == []
    assert {"users", "notes", "auth_sessions", "api_tokens"} <= asyncio.run(_inspect(database_url, _tables))

    config = alembic_config(database_url)
    config.attributes["configure_logger"] = False
    command.downgrade(config, "base")
    assert asyncio.run(_inspect(database_url, _tables)) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert asyncio.run(_inspect(database_url, _diff)) == []
