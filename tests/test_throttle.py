"""Throttling of the auth endpoints (SPEC §4): per client address, per account, shared via Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from notes_service import create_app
from notes_service.config import RateLimit
from notes_service.throttle import MemoryCounter, RedisCounter
from tests.helpers import PASSWORD, app_settings, csrf_token, unavailable

REDIS_URL = os.environ.get("NOTES_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def settings(database_url):  # type: ignore[no-untyped-def]
    return app_settings(database_url, auth_rate_limit="3/60")


def token_request(email: str = "alice@example.com", **headers: str):  # type: ignore[no-untyped-def]
    return {"json": {"email": email, "password": "wrong password"}, "headers": headers}


async def test_api_token_is_limited_per_client_with_retry_after(client, factory) -> None:
    await factory.user("alice")
    statuses = [(await client.post("/api/token", **token_request())).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    response = await client.post("/api/token", **token_request())
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "Too many attempts" in (await response.get_json())["error"]


async def test_login_page_shows_a_friendly_429(client, factory) -> None:
    await factory.user("alice")
    token = await csrf_token(client)
    form = {"email": "alice@example.com", "password": "wrong", "csrf_token": token}
    for _ in range(3):
        assert (await client.post("/login", form=form)).status_code == 200
    response = await client.post("/login", form=form)
    page = await response.get_data(as_text=True)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "Too many attempts. Please wait" in page and "flash-danger" in page


async def test_spoofed_forwarded_for_does_not_reset_the_budget(client) -> None:
    """With no trusted proxy, X-Forwarded-For is the client's own words and is ignored."""
    for number in range(3):
        body = {"username": f"user{number}", "email": f"u{number}@example.com", "password": PASSWORD}
        response = await client.post("/api/users", json=body, headers={"X-Forwarded-For": f"10.0.0.{number}"})
        assert response.status_code == 201
    response = await client.post(
        "/api/users",
        json={"username": "user9", "email": "u9@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": "10.9.9.9"},
    )
    assert response.status_code == 429


async def test_behind_one_trusted_proxy_the_real_client_is_the_last_hop(database_url) -> None:
    app = create_app(app_settings(database_url, auth_rate_limit="3/60", trusted_proxy_hops=1))
    async with app.test_app():
        client = app.test_client()

        async def attempt(forwarded_for: str) -> int:
            response = await client.post(
                "/api/token",
                **token_request(f"{uuid.uuid4().hex[:8]}@example.com", **{"X-Forwarded-For": forwarded_for}),
            )
            return response.status_code

        # The client writes a different left-most value each time; the proxy appends the real one.
        assert [await attempt(f"1.1.1.{n}, 203.0.113.7") for n in range(3)] == [401] * 3
        assert await attempt("1.1.1.99, 203.0.113.7") == 429
        assert await attempt("203.0.113.8") == 401  # another real client has its own budget


async def test_login_is_also_limited_per_account(database_url) -> None:
    app = create_app(app_settings(database_url, auth_rate_limit="3/60", trusted_proxy_hops=1))
    async with app.test_app():
        client = app.test_client()
        statuses = []
        for number in range(4):
            response = await client.post(
                "/api/token",
                **token_request("victim@example.com", **{"X-Forwarded-For": f"198.51.100.{number}"}),
            )
            statuses.append(response.status_code)
        assert statuses == [401, 401, 401, 429]


async def test_off_disables_throttling(database_url) -> None:
    app = create_app(app_settings(database_url, auth_rate_limit="off"))
    async with app.test_app():
        client = app.test_client()
        for _ in range(15):
            assert (await client.post("/api/token", **token_request())).status_code == 401


async def test_memory_counter_window_resets() -> None:
    counter = MemoryCounter()
    limit = RateLimit(2, 60)
    assert [await counter.hit("k", limit) for _ in range(2)] == [None, None]
    assert await counter.hit("k", limit) == 60
    counter.windows["k"] = (0.0, 99)  # the window ended
    assert await counter.hit("k", limit) is None


async def test_redis_counter_is_shared_between_workers() -> None:
    """Two counters (two workers, or two hosts) on one Redis spend one budget."""
    first, second = RedisCounter(REDIS_URL), RedisCounter(REDIS_URL)
    try:
        await first.redis.ping()
    except Exception as error:  # noqa: BLE001
        await first.close()
        await second.close()
        unavailable(f"Redis at {REDIS_URL} ({error})")
    key = f"notes:test:{uuid.uuid4().hex}"
    limit = RateLimit(3, 30)
    results = [await counter.hit(key, limit) for counter in (first, second, first)]
    assert results == [None, None, None]
    wait = await second.hit(key, limit)
    assert wait is not None and 1 <= wait <= 30
    assert 0 < await first.redis.ttl(key) <= 30  # keys expire by themselves
    await first.close()
    await second.close()


async def test_app_uses_redis_when_configured(database_url) -> None:
    app = create_app(app_settings(database_url, auth_rate_limit="2/60", redis_url=REDIS_URL))
    async with app.test_app():
        counter = app.extensions["throttle"]
        assert isinstance(counter, RedisCounter)
        try:
            await counter.redis.ping()
        except Exception as error:  # noqa: BLE001
            unavailable(f"Redis at {REDIS_URL} ({error})")
        email = f"{uuid.uuid4().hex[:8]}@example.com"
        other_worker = create_app(app_settings(database_url, auth_rate_limit="2/60", redis_url=REDIS_URL))
        async with other_worker.test_app():
            await counter.redis.flushdb()
            a, b = app.test_client(), other_worker.test_client()
            assert (await a.post("/api/token", **token_request(email))).status_code == 401
            assert (await b.post("/api/token", **token_request(email))).status_code == 401
            assert (await a.post("/api/token", **token_request(email))).status_code == 429
