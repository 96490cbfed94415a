"""Knowing an address does not keep its owner out (issue #20, item 11): past the account's spent
sign-in budget, a browser that signed in to the account before (its device cookie) and a sign-in
with a valid two-factor code still get in; everyone else is still refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from quart import Quart
from quart.typing import TestClientProtocol as Client
from quart.wrappers import Response

from notes_service import create_app
from notes_service.http import devices
from notes_service.http.counters import RedisCounter
from tests.helpers import PASSWORD, app_settings, csrf_token, redis_prefix_of_test
from tests.two_factor import Clock, enrol

LIMIT = 3


@pytest.fixture(params=["memory", "redis"])
async def app(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Quart]:
    """Behind one trusted proxy (X-Forwarded-For names the client), counting in memory or in Redis."""
    redis: dict[str, Any] = {}
    if request.param == "redis":
        from tests.helpers import REDIS_URL

        redis = {"redis_url": REDIS_URL}
    app = create_app(app_settings(database_url, auth_rate_limit=f"{LIMIT}/60", trusted_proxy_hops=1, **redis))
    async with app.test_app():
        if request.param == "redis":
            with redis_prefix_of_test() as prefix:
                counter = app.extensions["throttle"]
                assert isinstance(counter, RedisCounter)
                counter.prefix = prefix  # this test's keys only
                yield app
        else:
            yield app


def address(number: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{number}"}


async def sign_in(client: Client, email: str, password: str, number: int) -> Response:
    """POST /login from client address `number` (the form's token read first: a GET is not counted)."""
    form = {"email": email, "password": password, "csrf_token": await csrf_token(client)}
    return await client.post("/login", form=form, headers=address(number))


async def signed_in(client: Client) -> bool:
    return (await client.get("/dashboard")).status_code == 200


async def register(client: Client, name: str) -> str:
    email = f"{name}@example.com"
    body = {"username": name, "email": email, "password": PASSWORD}
    assert (await client.post("/api/users", json=body, headers=address(200))).status_code == 201
    return email


async def owner_browser(app: Quart, email: str) -> Client:
    """A browser that signed in to the account once (and signed out): it holds the device cookie."""
    browser = app.test_client()
    assert (await sign_in(browser, email, PASSWORD, 100)).status_code == 302
    assert await signed_in(browser)
    await browser.post("/logout", form={"csrf_token": await csrf_token(browser, "/logout")})
    assert not await signed_in(browser)
    return browser


async def exhaust(app: Quart, email: str) -> None:
    """An attacker spends what is left of the account's budget with wrong passwords, a new client
    address each time, until the account is refused."""
    attacker = app.test_client()
    statuses = [(await sign_in(attacker, email, "wrong password", n)).status_code for n in range(LIMIT + 1)]
    assert 429 in statuses and set(statuses[: statuses.index(429)]) <= {200}


async def test_the_owner_s_browser_signs_in_while_a_fresh_one_is_refused(app: Quart) -> None:
    email = await register(app.test_client(), "alice")
    owner = await owner_browser(app, email)
    await exhaust(app, email)

    fresh = app.test_client()
    response = await sign_in(fresh, email, PASSWORD, 60)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert not await signed_in(fresh)

    response = await sign_in(owner, email, PASSWORD, 61)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert await signed_in(owner)


async def test_the_device_cookie_is_httponly_long_lived_and_names_no_address(app: Quart) -> None:
    email = await register(app.test_client(), "alice")
    browser = app.test_client()
    response = await sign_in(browser, email, PASSWORD, 100)
    assert response.status_code == 302
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("notes_device=")]
    attributes = cookie.lower()
    assert "httponly" in attributes and "samesite=lax" in attributes and "max-age=31536000" in attributes
    assert "alice" not in cookie


async def test_a_device_guessing_wrong_spends_only_its_own_budget(app: Quart) -> None:
    email = await register(app.test_client(), "alice")
    owner = await owner_browser(app, email)
    await exhaust(app, email)
    statuses = [(await sign_in(owner, email, "wrong password", 70 + n)).status_code for n in range(LIMIT + 1)]
    assert statuses[-1] == 429  # the device's budget (its first sign-in spent one of it)
    other_owner = await sign_in(app.test_client(), email, PASSWORD, 80)
    assert other_owner.status_code == 429  # and the account's stays spent


async def test_a_device_cookie_of_another_account_does_not_help(app: Quart) -> None:
    alice = await register(app.test_client(), "alice")
    bob = await register(app.test_client(), "bob")
    alices_browser = await owner_browser(app, alice)
    await exhaust(app, bob)
    assert (await sign_in(alices_browser, bob, PASSWORD, 60)).status_code == 429
    assert not await signed_in(alices_browser)


@pytest.mark.parametrize("forgery", ["another key", "tampered"])
async def test_a_forged_device_cookie_does_not_help(app: Quart, forgery: str) -> None:
    """A cookie naming the account signed with another key, or the owner's own cookie altered."""
    email = await register(app.test_client(), "alice")
    real = device_cookie(await owner_browser(app, email))
    await exhaust(app, email)
    if forgery == "another key":
        async with app.app_context():
            account = devices._account_digest(email)
        signer = URLSafeTimedSerializer("another-secret-key-that-is-long-enough-0123", salt=devices.SALT)
        value = signer.dumps([[account, "0" * 32]])
    else:
        value = ("B" if real[0] != "B" else "C") + real[1:]
    forger = app.test_client()
    forger.set_cookie("localhost", devices.DEVICE_COOKIE, value)
    assert (await sign_in(forger, email, PASSWORD, 60)).status_code == 429
    assert not await signed_in(forger)
    control = app.test_client()  # the real cookie, planted the same way, does get in
    control.set_cookie("localhost", devices.DEVICE_COOKIE, real)
    assert (await sign_in(control, email, PASSWORD, 61)).status_code == 302


def device_cookie(browser: Client) -> str:
    assert browser.cookie_jar is not None
    [value] = [c.value for c in browser.cookie_jar if c.name == devices.DEVICE_COOKIE and c.value]
    return value


async def test_the_api_takes_the_password_with_a_valid_code(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    email = await register(app.test_client(), "alice")
    browser = app.test_client()
    assert (await sign_in(browser, email, PASSWORD, 100)).status_code == 302
    enrolled = await enrol(browser, clock)
    await exhaust(app, email)
    api = app.test_client()

    async def token(number: int, **body: str) -> int:
        response = await api.post("/api/token", json={"email": email, **body}, headers=address(number))
        return response.status_code

    assert await token(60, password=PASSWORD) == 429  # no code: the budget stands
    assert await token(61, password="wrong password", otp=clock.code(enrolled.secret)) == 429
    assert await token(62, password=PASSWORD, otp="000000") == 429  # not 401: nothing more is told
    assert await token(63, password=PASSWORD, otp=clock.code(enrolled.secret)) == 200


async def test_a_code_does_not_open_an_account_without_two_factor(app: Quart) -> None:
    email = await register(app.test_client(), "alice")
    await exhaust(app, email)
    body = {"email": email, "password": PASSWORD, "otp": "123456"}
    response = await app.test_client().post("/api/token", json=body, headers=address(60))
    assert response.status_code == 429 and "Retry-After" in response.headers


async def test_the_address_budget_still_applies_to_the_owner(app: Quart) -> None:
    email = await register(app.test_client(), "alice")
    owner = await owner_browser(app, email)
    other = app.test_client()
    for _ in range(LIMIT):
        await sign_in(other, "someone@example.com", "wrong password", 7)
    assert (await sign_in(owner, email, PASSWORD, 7)).status_code == 429


async def test_the_owner_s_browser_passes_both_steps_of_two_factor_sign_in(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    email = await register(app.test_client(), "alice")
    browser = app.test_client()
    assert (await sign_in(browser, email, PASSWORD, 100)).status_code == 302
    enrolled = await enrol(browser, clock)
    await browser.post("/logout", form={"csrf_token": await csrf_token(browser, "/logout")})
    await exhaust(app, email)
    response = await sign_in(browser, email, PASSWORD, 60)
    assert response.status_code == 302 and response.headers["Location"] == "/login/2fa"
    form = {"code": clock.code(enrolled.secret), "csrf_token": await csrf_token(browser)}
    response = await browser.post("/login/2fa", form=form, headers=address(60))
    assert response.status_code == 302 and await signed_in(browser)
