"""Throttling of the sign-in and sign-up endpoints (SPEC §4).

Fixed windows of `NOTES_AUTH_RATE_LIMIT` (COUNT/SECONDS) per route and client address. Sign-in routes
also count per account, in one budget they all share (`SIGNIN`): an account locked on `/login` is
locked on `/api/token` too. Past that budget two kinds of sign-in still pass, so that knowing an
address is not enough to keep its owner out: one from a browser whose device cookie names the account
(it spends that device's own budget instead, see `devices.py`), and one that carries a two-factor
code, which the route then lets through only when the code is valid (`over_signin_budget`). The
per-address budget applies to every request all the same. The client address is
`request.remote_addr` *after* the proxy fix, never the left-most X-Forwarded-For value, which any
client can write. Counters live in process memory, or in Redis (`NOTES_REDIS_URL`) so every
worker and host shares one budget.

quart-rate-limiter was measured and not used: its Redis store reads then writes (racy across workers),
its keys never expire, and its default key is the spoofable `access_route[0]`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import NoReturn, ParamSpec, TypeVar

from quart import Quart, current_app, g, request

from ..config import RateLimit
from . import devices
from .counters import Counter, MemoryCounter, RedisCounter
from .errors import HTTPError
from .logs import event

log = logging.getLogger("notes_service.http.throttle")
P = ParamSpec("P")
R = TypeVar("R")
TOO_MANY = "Too many attempts. Please wait {seconds} seconds and try again."
# The per-account budget every sign-in route spends from: POST /login, POST /api/token and
# POST /login/2fa (which calls `limit_signin` with the account of its pending sign-in).
SIGNIN = "signin"
PASSWORD_CHECK = "password-check"
# The per-address budget of every route that sends mail to an address a request names.
MAIL = "mail"
# In `g`: seconds to wait, when a sign-in went past its account's spent budget on a code yet to be checked.
OVER_BUDGET = "signin_over_budget"


def init_app(app: Quart) -> None:
    settings = app.config["NOTES"]

    @app.before_serving
    async def open_counter() -> None:
        app.extensions["throttle"] = (
            RedisCounter(settings.redis_url, prefix=settings.redis_prefix)
            if settings.redis_url
            else MemoryCounter()
        )

    @app.after_serving
    async def close_counter() -> None:
        counter = app.extensions.pop("throttle", None)
        if counter is not None:
            await counter.close()


def throttled(
    scope: str, *, account_field: str | None = None, code_field: str | None = None
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Limit POSTs to a route per client address, and per account when `account_field` names the
    submitted email (that count is the shared `SIGNIN` budget, whichever route spends it). A request
    with a `code_field` (a two-factor code) may go past the account's budget: see `limit_signin`."""

    def decorator(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            limit = _limit()
            if limit is not None and request.method == "POST":
                await _spend(f"{scope}:ip:{request.remote_addr}", scope, limit)
                # Only a request the address may make counts against the account (and makes a key).
                if account_field and (account := await _submitted(account_field)):
                    code = code_field is not None and await _submitted(code_field) is not None
                    await limit_signin(account, with_code=code)
            return await view(*args, **kwargs)

        return wrapper

    return decorator


async def limit_signin(account: str, *, with_code: bool = False) -> None:
    """Count one sign-in attempt against the account's `SIGNIN` budget (429 when it is spent), or,
    from a browser whose device cookie names the account, against that device's budget instead.

    `with_code`: the attempt carries a two-factor code. Past the account's budget it goes on, and
    the route must refuse it with `too_many(over_signin_budget())` unless the password and the code
    are both right, whatever else was wrong: so the answer tells nothing more than a 429 would.
    """
    if (limit := _limit()) is None:
        return
    if (device := devices.device_for(account)) is not None:
        await _spend(f"{SIGNIN}:device:{device}", SIGNIN, limit)
        return
    counter: Counter = current_app.extensions["throttle"]
    seconds = await counter.hit(_account_key(account), limit)
    if seconds is not None and with_code:
        g.setdefault(OVER_BUDGET, seconds)
    elif seconds is not None:
        _refuse(SIGNIN, seconds)


def over_signin_budget() -> int | None:
    """Seconds to wait, when this sign-in went past its account's spent budget on a code not yet
    checked (`limit_signin(..., with_code=True)`); None when it was within the budget."""
    seconds: int | None = g.get(OVER_BUDGET)
    return seconds


async def limit_password_checks(user_id: int) -> None:
    """Count one check of a signed-in user's current password (429 when over the limit).

    A stolen session must not become a way to guess the password that guards the account's settings.
    """
    if (limit := _limit()) is not None:
        await _spend(f"{PASSWORD_CHECK}:user:{user_id}", PASSWORD_CHECK, limit)


async def limit_mail(address: str) -> None:
    """Count one message asked for to this address (429 over the limit), whichever route asks and
    whether or not an account has the address: no one can mail-bomb an inbox through us."""
    if (limit := _limit()) is not None:
        await _spend(f"{MAIL}:email:{address.strip().lower()[:254]}", MAIL, limit)


def _limit() -> RateLimit | None:
    limit: RateLimit | None = current_app.config["NOTES"].auth_rate_limit
    return limit


def _account_key(account: str) -> str:
    return f"{SIGNIN}:account:{account.strip().lower()[:254]}"


def too_many(seconds: int) -> HTTPError:
    """The 429 of SPEC §4: wait `seconds` (also in `Retry-After`)."""
    seconds = max(int(seconds), 1)
    return HTTPError(429, TOO_MANY.format(seconds=seconds), headers={"Retry-After": str(seconds)})


async def _spend(key: str, scope: str, limit: RateLimit) -> None:
    counter: Counter = current_app.extensions["throttle"]
    seconds = await counter.hit(key, limit)
    if seconds is not None:
        _refuse(scope, seconds)


def _refuse(scope: str, seconds: int) -> NoReturn:
    event(log, "throttled", scope=scope, client=request.remote_addr)
    raise too_many(seconds)


async def _submitted(field: str) -> str | None:
    """A string field of the body, read as the route reads it: the API parses every body as JSON
    (whatever its content type, see `json_body`), the browser routes read the form."""
    if request.path.startswith("/api/"):
        body = await request.get_json(force=True, silent=True)
        value = body.get(field) if isinstance(body, dict) else None
    else:
        value = (await request.form).get(field)
    return value if isinstance(value, str) else None
