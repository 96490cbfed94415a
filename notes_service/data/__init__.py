"""The data layer: tables' base types, engines, and the `Store` every service takes.

A request reaches the database as blueprint → service(store) → database: routes ask for
`current_store()`, open `async with store.write():` around their writes, and pass the store on.
"""

from __future__ import annotations

from quart import Quart, current_app, g

from .batches import BatchedRead
from .compiled import generic_plan
from .engine import import_driver
from .rowtypes import Read
from .store import Database, Store
from .types import Base, UTCDateTime, utcnow

__all__ = [
    "BatchedRead",
    "Base",
    "Database",
    "Read",
    "Store",
    "UTCDateTime",
    "current_store",
    "generic_plan",
    "init_app",
    "utcnow",
]


def init_app(app: Quart) -> None:
    """Open the database when the app starts serving, close it when it stops."""
    import_driver(app.config["NOTES"].database_url)

    @app.before_serving
    async def open_database() -> None:
        app.extensions["database"] = await Database.open(app.config["NOTES"].database_url)

    @app.after_serving
    async def close_database() -> None:
        database: Database | None = app.extensions.pop("database", None)
        if database is not None:
            await database.close()


def current_store() -> Store:
    """This request's store, made on first use."""
    store: Store | None = g.get("store")
    if store is None:
        database: Database = current_app.extensions["database"]
        store = g.store = database.store()
    return store
