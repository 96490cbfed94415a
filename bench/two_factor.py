"""Sign-in with two-factor: the browser's flow, `POST /login` then `POST /login/2fa` with a TOTP code.

Each sign-in is a new browser: `GET /login` for the form's CSRF token, `POST /login` (the bcrypt
hash; the service records a pending sign-in and redirects), `GET /login/2fa`, and `POST /login/2fa`
with the code of the current 30 s step, which creates the session (302 away from /login).

Why TOTP codes rather than recovery codes: a code from the app is what people type at every sign-in,
and it is the dearer check (the stored secret decrypted with AES-GCM, three HMACs, a conditional
UPDATE of the last step), where a recovery code costs one digest DELETE. The codes are computed here
from the seeded secrets, as the authenticator app computes them. The service accepts each step once
per user, so sign-ins take users from a `Pool` that hands out only users who have not signed in
during the current step, least recently used first; with seed.TWO_FACTOR_USERS users it never runs
dry at the rate two cores allow, and if it did, a sign-in would wait for the next step (and the
figure would show it).
"""

from __future__ import annotations

import asyncio
from collections import deque

import httpx
import pyotp

from notes_service.services import totp
from notes_service.services.totp import DIGITS, STEP_SECONDS, current_step

from .clients import csrf_token
from .logins import SignIn
from .seed import Account


class Pool:
    """Users with two-factor sign-in, each lent out at most once per TOTP step."""

    def __init__(self, accounts: tuple[Account, ...]) -> None:
        self.free = deque(accounts)
        self.last_step: dict[int, int] = {}  # user id -> the last step whose code was sent

    async def take(self) -> Account:
        """The least recently used user whose code of the current step is still unused."""
        while True:
            step = current_step()
            if self.free and self.last_step.get(self.free[0].id, step - 1) < step:
                return self.free.popleft()
            await self.next_step((step + 1) * STEP_SECONDS - totp.clock() + 0.01)

    async def next_step(self, seconds: float) -> None:
        """Wait until the next TOTP step begins, `seconds` from now."""
        await asyncio.sleep(seconds)

    def give_back(self, account: Account, step: int | None) -> None:
        """Return the user; `step` is the one whose code was sent (None: none was)."""
        if step is not None:
            self.last_step[account.id] = step
        self.free.append(account)


def code(secret: str, step: int) -> str:
    """The 6-digit RFC 6238 code of `step`, as an authenticator app shows it."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def browser_sign_in(pool: Pool, password: str) -> SignIn:
    """A whole 2FA sign-in through the forms, by a user from `pool`; True when it made a session."""

    async def sign_in(http: httpx.AsyncClient) -> bool:
        account, step = await pool.take(), None
        assert account.totp_secret is not None
        try:
            form = {"email": account.email, "password": password}
            form["csrf_token"] = csrf_token((await http.get("/login")).text)
            password_step = await http.post("/login", data=form)
            if password_step.status_code != 302 or password_step.headers["location"] != "/login/2fa":
                return False
            token = csrf_token((await http.get("/login/2fa")).text)
            step = current_step()
            done = await http.post(
                "/login/2fa", data={"code": code(account.totp_secret, step), "csrf_token": token}
            )
            signed_in = done.status_code == 302 and not done.headers["location"].startswith("/login")
            return signed_in and "notes_auth" in http.cookies
        finally:
            pool.give_back(account, step)

    return sign_in


async def check(base_url: str, pool: Pool, password: str) -> None:
    """One sign-in before measuring: fail unless it works."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30, trust_env=False) as http:
        if not await browser_sign_in(pool, password)(http):
            raise RuntimeError(f"a two-factor sign-in through {base_url}/login/2fa failed")
