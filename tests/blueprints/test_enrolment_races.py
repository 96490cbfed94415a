"""A sign-in racing two-factor enrolment gets nothing that outlives it (SPEC §6, §8; issue 20 item 3).

`POST /login` or `POST /api/token` checks the password (bcrypt, a quarter of a second in production)
before the write block that creates the session or token; an enrolment committed in between must
win: no session or token, or one that is dead at its first use. Three interleavings, each `ROUNDS`
times, on whichever database the suite runs (SQLite: every writer of a worker queues on one lock;
PostgreSQL: concurrent transactions on separate connections):

- `after`: the sign-in pauses after its password check, the enrolment runs to its end, the sign-in
  goes on;
- `inside`: the sign-in pauses after its check, the enrolment pauses inside its write block (two-
  factor sign-in on, not yet committed), the sign-in goes on into its own write block (where it
  waits: the lock on SQLite, the user's row on PostgreSQL), then the enrolment commits;
- `together`: no pause; both start together, the sign-in a random fraction of a millisecond later.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from notes_service.data.models import ApiToken, AuthSession
from notes_service.services import two_factor
from tests.helpers import PASSWORD, bearer, csrf_token, login
from tests.two_factor import SECRET_ON_PAGE, Clock, csrf_of

ROUNDS = 25


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


class Pause:
    """Holds the first call of an async function of `owner` until `go` is set (`reached` says it came)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, *, after: bool) -> None:
        self.reached, self.go = asyncio.Event(), asyncio.Event()
        original = getattr(owner, name)
        calls = 0

        async def paused(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            first = calls == 1
            if first and not after:
                self.reached.set()
                await self.go.wait()
            result = await original(*args, **kwargs)
            if first and after:
                self.reached.set()
                await self.go.wait()
            return result

        monkeypatch.setattr(owner, name, paused)


async def enrolment(client: Any, clock: Clock) -> Callable[[], Awaitable[Any]]:
    """Open /settings/2fa in the owner's browser; returns the POST that turns two-factor sign-in on."""
    page = await (await client.get("/settings/2fa")).get_data(as_text=True)
    match = SECRET_ON_PAGE.search(page)
    assert match, "no secret on /settings/2fa"
    form = {"code": clock.code(match.group(1)), "current_password": PASSWORD, "csrf_token": csrf_of(page)}

    async def post() -> Any:
        response = await client.post("/settings/2fa", form=form)
        assert "Two-factor sign-in is on." in await response.get_data(as_text=True)
        return response

    return post


Probe = Callable[[], Awaitable[bool]]


async def browser_sign_in(app: Any, email: str) -> Callable[[], Awaitable[Probe]]:
    """A browser with the password: the POST /login; then whether the browser is signed in."""
    browser = app.test_client()
    form = {"email": email, "password": PASSWORD, "csrf_token": await csrf_token(browser)}

    async def signed_in() -> bool:
        return (await browser.get("/dashboard")).status_code == 200

    async def post() -> Probe:
        await browser.post("/login", form=form)
        return signed_in

    return post


async def token_sign_in(app: Any, email: str) -> Callable[[], Awaitable[Probe]]:
    """A program with the password: POST /api/token; then whether a token it got works."""
    client = app.test_client()

    async def post() -> Probe:
        response = await client.post("/api/token", json={"email": email, "password": PASSWORD})
        token = (await response.get_json()).get("token")

        async def works() -> bool:
            return (
                token is not None and (await client.get("/api/me", headers=bearer(token))).status_code == 200
            )

        return works

    return post


SIGN_INS = {"login": browser_sign_in, "token": token_sign_in}


async def one_round(
    app: Any, factory: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch, route: str, interleaving: str
) -> bool:
    """One race on a new account; True when the sign-in without a code is still in once both ended,
    or (paused) when it wrote a session or token at all: the write block must refuse it."""
    user = await factory.user()
    owner = app.test_client()
    assert (await login(owner, user.email)).status_code == 302
    enrol = await enrolment(owner, clock)
    sign_in = await SIGN_INS[route](app, user.email)
    with monkeypatch.context() as patch:
        if interleaving == "together":
            delay = random.uniform(0, 0.001)

            async def later() -> Probe:
                await asyncio.sleep(delay)
                return await sign_in()

            probe, _ = await asyncio.gather(later(), enrol())
        else:
            checked = Pause(patch, app.extensions["hasher"], "verify", after=True)
            attempt = asyncio.create_task(sign_in())
            await asyncio.wait_for(checked.reached.wait(), 5)  # the password is checked: 2FA was off
            if interleaving == "after":
                await enrol()
                checked.go.set()
            else:
                inside = Pause(patch, two_factor, "turn_on", after=True)
                enrolling = asyncio.create_task(enrol())
                await asyncio.wait_for(inside.reached.wait(), 5)
                checked.go.set()
                await asyncio.sleep(0.05)  # the sign-in reaches its write block and waits there
                inside.go.set()
                await asyncio.wait_for(enrolling, 5)
            probe = await asyncio.wait_for(attempt, 5)
    assert (await owner.get("/dashboard")).status_code == 200  # the enrolling browser stays in
    written = await rows_of(app, user.id) != (1, 0)  # the owner's session, no token
    return await probe() or (interleaving != "together" and written)


async def rows_of(app: Any, user_id: int) -> tuple[int, int]:
    """How many auth sessions and API tokens the user has (live or not)."""
    store = app.extensions["database"].store()
    counts = [
        await store.scalar(select(func.count()).select_from(table).where(table.user_id == user_id))
        for table in (AuthSession, ApiToken)
    ]
    return counts[0], counts[1]


@pytest.mark.parametrize("interleaving", ["after", "inside", "together"])
@pytest.mark.parametrize("route", ["login", "token"])
async def test_a_sign_in_racing_enrolment_gets_nothing_that_lasts(
    app, factory, clock, monkeypatch, route, interleaving
) -> None:
    leaks = 0
    for _ in range(ROUNDS):
        leaks += await one_round(app, factory, clock, monkeypatch, route, interleaving)
    outcome = f"{leaks} of {ROUNDS} got a session or token without a code"
    print(f"{route} racing enrolment ({interleaving}): {outcome}")
    assert leaks == 0, outcome
