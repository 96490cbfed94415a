"""Steps the two-factor tests share: a clock standing at a chosen time step, enrolling as a person
would (reading the secret off the page), and the password then code sign-in."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from quart.typing import TestClientProtocol
from quart.wrappers import Response

from notes_service.services import totp
from tests.helpers import CSRF_PATTERN, PASSWORD, csrf_token, login

SECRET_ON_PAGE = re.compile(r'<code id="totp-secret">([A-Z2-7]+)</code>')
CODES_ON_PAGE = re.compile(r"<li><code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</code></li>")
START = 1_900_000_000.0  # a fixed moment, at the start of a 30 s step


class Clock:
    """The server's TOTP clock, moved by the test (`totp.clock` is replaced)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = START
        monkeypatch.setattr(totp, "clock", lambda: self.now)

    def step(self, steps: int = 1) -> None:
        self.now += steps * totp.STEP_SECONDS

    def code(self, secret: str, offset: int = 0) -> str:
        """The authenticator app's code `offset` steps from the server's now."""
        return str(pyotp.TOTP(secret).at(self.now + offset * totp.STEP_SECONDS))


@dataclass
class Enrolled:
    secret: str
    recovery_codes: list[str]
    page: str


def csrf_of(page: str) -> str:
    match = CSRF_PATTERN.search(page)
    assert match, "no csrf_token on the page"
    return match.group(1)


async def enrol(client: TestClientProtocol, clock: Clock) -> Enrolled:
    """Turn two-factor sign-in on with the secret shown on /settings/2fa (and the password); the clock
    moves one step on, so the step used to enrol is in the past."""
    page = await (await client.get("/settings/2fa")).get_data(as_text=True)
    match = SECRET_ON_PAGE.search(page)
    assert match, "no secret on /settings/2fa"
    secret = match.group(1)
    form = {"code": clock.code(secret), "current_password": PASSWORD, "csrf_token": csrf_of(page)}
    response = await client.post("/settings/2fa", form=form)
    done = await response.get_data(as_text=True)
    assert response.status_code == 200, done
    assert "Two-factor sign-in is on." in done
    codes = CODES_ON_PAGE.findall(done)
    assert len(codes) == 10
    clock.step()
    return Enrolled(secret, codes, done)


async def password_step(client: TestClientProtocol, email: str, **extra: Any) -> Response:
    """POST /login with the right password: for a 2FA account, a redirect to /login/2fa."""
    response = await login(client, email, PASSWORD, **extra)
    assert response.status_code == 302 and response.headers["Location"] == "/login/2fa", response.headers
    return response


async def code_step(client: TestClientProtocol, code: str) -> Response:
    """POST /login/2fa with `code` (a valid CSRF token of this browser, taken from /login so that no
    GET of /login/2fa comes in between)."""
    return await client.post("/login/2fa", form={"code": code, "csrf_token": await csrf_token(client)})


async def flashes(client: TestClientProtocol, path: str = "/") -> str:
    return html.unescape(await (await client.get(path)).get_data(as_text=True))
