"""Alembic environment (from the async template): migrations run on the app's own engine setup."""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from sqlalchemy.engine import Connection

from alembic import context
from notes_service.config import DEFAULT_DATABASE_URL
from notes_service.data import models  # registers the tables on Base.metadata
from notes_service.data.engine import create_engine
from notes_service.data.types import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    """An explicit URL (tests, the CLI) wins over NOTES_DATABASE_URL and the default."""
    return config.get_main_option("sqlalchemy.url") or os.environ.get(
        "NOTES_DATABASE_URL", DEFAULT_DATABASE_URL
    )


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        # A batch copy drops and recreates a table; with foreign keys on, dropping `users` would
        # cascade to every note. The pragma is ignored inside a transaction: set it before one
        # begins, on the driver's connection (the app's own connections keep foreign keys on).
        connection.connection.cursor().execute("PRAGMA foreign_keys = OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_name=models.declared_in_models,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(database_url())
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
