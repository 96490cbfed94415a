"""Fixtures: a freshly migrated database per test (SQLite file or PostgreSQL database), the app,
its test client, and small factories.

`NOTES_TEST_DATABASE=postgresql` runs everything on PostgreSQL (127.0.0.1:5432 by default, see
`NOTES_TEST_POSTGRES_URL`); each test gets its own database cloned from a migrated template.
Without it, each test gets a copy of a migrated SQLite file. `NOTES_TEST_REQUIRE_SERVICES=1` turns
"PostgreSQL/Redis is not running" from a skip into a failure (CI).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol

from notes_service import create_app
from notes_service.cli import alembic_config
from notes_service.security import PasswordHasher
from notes_service.services import users

BACKEND = os.environ.get("NOTES_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get("NOTES_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("NOTES_TEST_REQUIRE_SERVICES") == "1"
PASSWORD = "correct horse battery"
SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def unavailable(what: str) -> None:
    """Skip (locally) or fail (CI) when a service a test needs is not running."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (NOTES_TEST_REQUIRE_SERVICES=1) but not reachable")
    pytest.skip(f"{what} is not reachable")


def migrate(url: str) -> None:
    from alembic import command

    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def _pg_admin(statements: list[str]) -> None:
    import asyncpg

    async def run() -> None:
        dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def _pg_url(database: str) -> str:
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head once per run; each test gets a copy."""
    if BACKEND == "postgresql":
        name = f"notes_tmpl_{os.getpid()}"
        try:
            _pg_admin([f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"])
        except (TimeoutError, OSError) as error:
            unavailable(f"PostgreSQL at {POSTGRES_URL} ({error})")
        migrate(_pg_url(name))
        yield name
        _pg_admin([f"DROP DATABASE IF EXISTS {name}"])
    else:
        path = tmp_path_factory.mktemp("template") / "notes.db"
        migrate(f"sqlite+aiosqlite:///{path}")
        yield str(path)


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test alone."""
    if BACKEND == "postgresql":
        name = f"notes_test_{uuid.uuid4().hex[:12]}"
        _pg_admin([f"CREATE DATABASE {name} TEMPLATE {database_template}"])
        yield _pg_url(name)
        _pg_admin([f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    else:
        path = tmp_path / "notes.db"
        shutil.copy(database_template, path)
        yield f"sqlite+aiosqlite:///{path}"


def app_settings(database_url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "secret_key": SECRET_KEY,
        "env": "test",
        "bcrypt_rounds": 4,
        "auth_rate_limit": "off",
        **overrides,
    }


@pytest.fixture
def settings(database_url: str) -> dict[str, Any]:
    """Settings for `create_app`; a test may change them before asking for `app`."""
    return app_settings(database_url)


@pytest.fixture
async def app(settings: dict[str, Any]) -> AsyncIterator[Quart]:
    app = create_app(settings)
    async with app.test_app():
        yield app


@pytest.fixture
def client(app: Quart) -> TestClientProtocol:
    return app.test_client()


@pytest.fixture
def hasher() -> Iterator[PasswordHasher]:
    hasher = PasswordHasher(rounds=4)
    yield hasher
    hasher.close()


class Factory:
    """Builds users directly through the services (fast; no HTTP)."""

    def __init__(self, app: Quart) -> None:
        self.app = app
        self.count = 0

    async def user(self, username: str | None = None, *, password: str = PASSWORD, **extra: Any):  # type: ignore[no-untyped-def]
        self.count += 1
        username = username or f"user{self.count}"
        async with self.app.extensions["db"]() as session:
            user = await users.register_user(
                session,
                self.app.extensions["hasher"],
                username=username,
                email=extra.get("email", f"{username}@example.com"),
                password=password,
            )
            await session.commit()
        return user


@pytest.fixture
def factory(app: Quart) -> Factory:
    return Factory(app)


async def csrf_token(client: TestClientProtocol, path: str = "/login") -> str:
    """The CSRF token of the form on `path` (also sets the session cookie that backs it)."""
    page = await (await client.get(path)).get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, f"no csrf_token on {path}"
    return match.group(1)


async def post_form(
    client: TestClientProtocol, path: str, data: dict[str, Any], *, form_page: str | None = None
):  # type: ignore[no-untyped-def]
    """POST a browser form with a valid CSRF token taken from `form_page` (default `path`)."""
    token = await csrf_token(client, form_page or path)
    return await client.post(path, form={**data, "csrf_token": token})


async def login(client: TestClientProtocol, email: str, password: str = PASSWORD, **extra: Any):  # type: ignore[no-untyped-def]
    return await post_form(client, "/login", {"email": email, "password": password, **extra})


async def api_token(client: TestClientProtocol, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/token", json={"email": email, "password": password})
    assert response.status_code == 200, await response.get_data(as_text=True)
    return (await response.get_json())["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
