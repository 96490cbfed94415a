"""A sign-in code is used once even when several transactions take it at the same moment.

`accept_code` guards the code with one conditional statement (an UPDATE of the last accepted
step, a DELETE of the recovery code) whose row count says who got it. The route tests cannot see
that guard fail: the routes lock the user's row before they reach it (`users.still_current`,
`check_sign_in_code`), and on SQLite a write block admits one writer at a time (the worker's lock,
`BEGIN IMMEDIATE`), so a read-then-write there is not a race at all. Here write blocks of their
own, on PostgreSQL, call the guard directly, with nothing else in the way: rewritten as "read the
last step (or find the code), then write", two of them accept one code.
"""

from __future__ import annotations

import asyncio

import pytest
from quart import Quart

from notes_service.data import Database
from notes_service.services import totp, two_factor
from tests.databases import BACKEND
from tests.helpers import SECRET_KEY, Factory
from tests.two_factor import Clock

pytestmark = pytest.mark.skipif(
    BACKEND != "postgresql",
    reason="SQLite write blocks run one at a time (writer lock, BEGIN IMMEDIATE): nothing can race",
)
TAKERS = 6
ROUNDS = 10


async def take_at_once(database: Database, *, user_id: int, code: str) -> list[bool]:
    """`TAKERS` write blocks, each on its own connection, offering the same code together."""
    box = totp.secret_box(SECRET_KEY)
    started = asyncio.Barrier(TAKERS)

    async def take() -> bool:
        store = database.store()
        await started.wait()
        async with store.write():
            return await two_factor.accept_code(store, box, user_id=user_id, code=code)

    return await asyncio.gather(*(take() for _ in range(TAKERS)))


async def test_one_totp_step_and_one_recovery_code_are_accepted_once(
    app: Quart, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    alice = await factory.user("alice")
    database: Database = app.extensions["database"]
    secret, codes = totp.new_secret(), totp.new_recovery_codes()
    store = database.store()
    async with store.write():
        await two_factor.turn_on(
            store,
            totp.secret_box(SECRET_KEY),
            user_id=alice.id,
            secret=secret,
            step=totp.current_step(clock.now) - 5,
            codes=codes,
        )
    for round_ in range(ROUNDS):
        clock.step()
        taken = await take_at_once(database, user_id=alice.id, code=clock.code(secret))
        assert taken.count(True) == 1, f"round {round_}: the TOTP was accepted {taken.count(True)} times"
    for code in codes[:ROUNDS]:
        taken = await take_at_once(database, user_id=alice.id, code=code)
        assert taken.count(True) == 1, f"recovery code accepted {taken.count(True)} times"
