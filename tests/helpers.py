"""What tests share besides fixtures: settings, skipping for missing services, and browser/API steps."""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from quart.typing import TestClientProtocol
from quart.wrappers import Response
from sqlalchemy import select

from notes_service.data import Store
from notes_service.data.models import User
from notes_service.services import users
from notes_service.services.security import PasswordHasher

REQUIRE_SERVICES = os.environ.get("NOTES_TEST_REQUIRE_SERVICES") == "1"
REDIS_URL = os.environ.get("NOTES_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "correct horse battery"
SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Mail of tests that do not read it lands here, not in the checkout's instance/outbox.
TEST_OUTBOX = os.path.join(tempfile.gettempdir(), f"notes-test-outbox-{os.getpid()}")


def unavailable(what: str) -> None:
    """Skip (locally) or fail (CI) when a service a test needs is not running."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (NOTES_TEST_REQUIRE_SERVICES=1) but not reachable")
    pytest.skip(f"{what} is not reachable")


@contextmanager
def redis_prefix_of_test() -> Iterator[str]:
    """A Redis key prefix of the caller's own (the Redis is shared); its keys are deleted after.
    Skips (or fails, see `unavailable`) when Redis does not answer."""
    from redis import Redis

    prefix = f"notes:test:{uuid.uuid4().hex}:"
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except Exception as error:
        client.close()
        unavailable(f"Redis at {REDIS_URL} ({error})")
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


def app_settings(database_url: str, **overrides: Any) -> dict[str, Any]:
    """Settings for `create_app` in tests: fast bcrypt, no throttling unless a test turns it on."""
    return {
        "database_url": database_url,
        "secret_key": SECRET_KEY,
        "env": "test",
        "bcrypt_rounds": 4,
        "auth_rate_limit": "off",
        "outbox_dir": TEST_OUTBOX,
        **overrides,
    }


async def csrf_token(client: TestClientProtocol, path: str = "/login") -> str:
    """The CSRF token of the form on `path` (also sets the session cookie that backs it)."""
    page = await (await client.get(path)).get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, f"no csrf_token on {path}"
    return match.group(1)


async def post_form(
    client: TestClientProtocol, path: str, data: dict[str, Any], *, form_page: str | None = None
) -> Response:
    """POST a browser form with a valid CSRF token taken from `form_page` (default `path`)."""
    token = await csrf_token(client, form_page or path)
    return await client.post(path, form={**data, "csrf_token": token})


async def login(client: TestClientProtocol, email: str, password: str = PASSWORD, **extra: Any) -> Response:
    return await post_form(client, "/login", {"email": email, "password": password, **extra})


async def api_token(client: TestClientProtocol, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/token", json={"email": email, "password": password})
    assert response.status_code == 200, await response.get_data(as_text=True)
    token: str = (await response.get_json())["token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Factory:
    """Builds users directly through the services (fast; no HTTP)."""

    def __init__(self, store: Store, hasher: PasswordHasher) -> None:
        self.store = store
        self.hasher = hasher
        self.count = 0

    async def user(
        self, username: str | None = None, *, password: str = PASSWORD, email: str | None = None
    ) -> Any:
        """A new account; returns its `users` row (every column, `password_hash` included)."""
        self.count += 1
        username = username or f"user{self.count}"
        password_hash = await self.hasher.hash(password)
        async with self.store.write():
            created = await users.create_user(
                self.store,
                username=username,
                email=email or f"{username}@example.com",
                password_hash=password_hash,
            )
        return await self.store.row(select(User).where(User.id == created.user_id))
