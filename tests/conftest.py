"""Fixtures: a freshly migrated database per test, the app, its test client, its store, and a factory.

Without `NOTES_TEST_DATABASE=postgresql` each test gets a copy of a migrated SQLite file
(`databases.py`). `NOTES_TEST_REQUIRE_SERVICES=1` turns "PostgreSQL/Redis is not running" from a
skip into a failure (CI). Helpers that are not fixtures live in `helpers.py`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol

from notes_service import create_app
from notes_service.data import Database, Store
from notes_service.services.security import PasswordHasher
from tests.databases import BACKEND, POSTGRES_URL, migrate, pg_admin, pg_database, pg_url
from tests.helpers import Factory, app_settings, unavailable
from tests.mailbox import Mailbox
from tests.shapes import check_api_responses

SAME_ON_EVERY_DATABASE = "the same on every database: it ran in the SQLite pass"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_pass_only: what it tests does not change with NOTES_TEST_DATABASE (no database, or "
        "servers that are SQLite ones whatever it says): the PostgreSQL pass skips it",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass would repeat `sqlite_pass_only` tests exactly: it skips them."""
    if BACKEND != "postgresql":
        return
    for item in items:
        if item.get_closest_marker("sqlite_pass_only"):
            item.add_marker(pytest.mark.skip(reason=SAME_ON_EVERY_DATABASE))


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head once per run; each test gets a copy."""
    if BACKEND == "postgresql":
        name = f"notes_tmpl_{os.getpid()}"
        try:
            pg_admin([f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"])
        except (TimeoutError, OSError) as error:
            unavailable(f"PostgreSQL at {POSTGRES_URL} ({error})")
        migrate(pg_url(name))
        yield name
        pg_admin([f"DROP DATABASE IF EXISTS {name}"])
    else:
        path = tmp_path_factory.mktemp("template") / "notes.db"
        migrate(f"sqlite+aiosqlite:///{path}")
        yield str(path)


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test alone."""
    if BACKEND == "postgresql":
        with pg_database(database_template) as url:
            yield url
    else:
        path = tmp_path / "notes.db"
        shutil.copy(database_template, path)
        yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Settings for `create_app`; a test may change them before asking for `app`."""
    return app_settings(database_url, outbox_dir=str(tmp_path / "outbox"))


@pytest.fixture
async def app(settings: dict[str, Any]) -> AsyncIterator[Quart]:
    """The app, serving; every API response it sends is checked against its documented model."""
    app = create_app(settings)
    problems: list[str] = []
    check_api_responses(app, problems)
    async with app.test_app():
        yield app
    assert not problems, "API responses that do not match their documented models:\n" + "\n".join(problems)


@pytest.fixture
def client(app: Quart) -> TestClientProtocol:
    return app.test_client()


@pytest.fixture
def store(app: Quart) -> Store:
    """A store on the app's database, as a route has one: for building and checking test data."""
    database: Database = app.extensions["database"]
    return database.store()


@pytest.fixture
def hasher() -> Iterator[PasswordHasher]:
    hasher = PasswordHasher(rounds=4)
    yield hasher
    hasher.close()


@pytest.fixture
def factory(app: Quart, store: Store) -> Factory:
    return Factory(store, app.extensions["hasher"])


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a free port, running for this test."""
    box = Mailbox().up()
    yield box
    box.down()


@pytest.fixture
def mail_settings(settings: dict[str, Any], mailbox: Mailbox, tmp_path: Path) -> dict[str, Any]:
    """`settings` delivering to `mailbox`, looking for due mail every 50 ms."""
    settings.update(smtp_url=mailbox.url, mail_poll_seconds=0.05, public_url="https://notes.example.com")
    return settings
