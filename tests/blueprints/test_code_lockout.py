"""Wrong sign-in codes are counted per account (SPEC §8, issue 20 item 5).

Across `/login/2fa` and `POST /api/token`, in one count every worker and host shares (the user's row):
after 5 wrong codes the account takes no code for 15 minutes (429, `Retry-After`, SPEC §4's words) and
its owner gets one mail per lockout. Time moves by replacing the services' clock; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import html
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from notes_service import create_app
from notes_service.data import utcnow
from notes_service.data.models import OutboxMessage, User
from notes_service.services import two_factor
from notes_service.services.account_mail import SIGN_IN_ATTEMPTS_SUBJECT
from tests.helpers import PASSWORD, Factory, app_settings, login
from tests.two_factor import Clock, code_step, enrol, password_step

LOCKED = "Too many attempts. Please wait {seconds} seconds and try again."


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    settings.update(mail_poll_seconds=3600)  # queued mail stays in the outbox, to be read here
    return settings


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


class Later:
    """The services' wall clock (lockouts, pending sign-ins), moved on by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = timedelta()
        monkeypatch.setattr(two_factor, "utcnow", lambda: utcnow() + self.offset)

    def move(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


async def enrolled_alice(app: Any, factory: Any, clock: Clock) -> str:
    """alice@example.com with two-factor sign-in on; returns her TOTP secret."""
    await factory.user("alice")
    browser = app.test_client()
    await login(browser, "alice@example.com")
    return (await enrol(browser, clock)).secret


async def token_with(client: Any, otp: str) -> Any:
    return await client.post(
        "/api/token", json={"email": "alice@example.com", "password": PASSWORD, "otp": otp}
    )


async def mails(store: Any) -> list[Any]:
    return await store.rows(
        select(OutboxMessage.recipient, OutboxMessage.body).where(
            OutboxMessage.subject == SIGN_IN_ATTEMPTS_SUBJECT
        )
    )


def locked_for(response: Any) -> int:
    assert response.status_code == 429, response.status_code
    return int(response.headers["Retry-After"])


async def test_five_wrong_codes_across_both_routes_lock_the_account(
    app, factory, store, clock, monkeypatch
) -> None:
    secret = await enrolled_alice(app, factory, clock)
    later = Later(monkeypatch)
    api, browser = app.test_client(), app.test_client()
    for wrong in ("000000", "111111", "not-a-recovery-code"):
        assert (await token_with(api, wrong)).status_code == 401
    await password_step(browser, "alice@example.com")
    assert (await code_step(browser, "222222")).status_code == 200
    assert await mails(store) == []  # 4 wrong codes: no lockout, no mail
    assert (await code_step(browser, "333333")).status_code == 200  # the 5th: the lockout starts
    assert len(await mails(store)) == 1

    right = await token_with(api, clock.code(secret))  # even the right code is not looked at
    assert 890 <= locked_for(right) <= 900
    body = await right.get_json()
    assert body == {"error": LOCKED.format(seconds=right.headers["Retry-After"])}
    await password_step(browser, "alice@example.com")
    page = await code_step(browser, clock.code(secret))
    assert 890 <= locked_for(page) <= 900
    text = html.unescape(await page.get_data(as_text=True))
    assert LOCKED.format(seconds=page.headers["Retry-After"]) in text
    for _ in range(3):  # more tries during the lockout: still refused, no more mail
        assert (await token_with(api, "444444")).status_code == 429
    [mail] = await mails(store)
    assert mail.recipient == "alice@example.com" and "5 wrong" in mail.body and "15 minutes" in mail.body

    later.move(minutes=14)
    assert 50 <= locked_for(await token_with(api, clock.code(secret))) <= 60
    later.move(minutes=1, seconds=1)
    assert (await token_with(api, clock.code(secret))).status_code == 200  # codes are taken again
    assert len(await mails(store)) == 1


async def test_the_count_starts_again_after_a_right_code_and_after_a_lockout(
    app, factory, store, clock, monkeypatch
) -> None:
    secret = await enrolled_alice(app, factory, clock)
    later = Later(monkeypatch)
    api = app.test_client()
    for _ in range(4):
        assert (await token_with(api, "000000")).status_code == 401
    assert (await token_with(api, clock.code(secret))).status_code == 200  # right: the count is 0 again
    clock.step()
    for _ in range(4):
        assert (await token_with(api, "000000")).status_code == 401
    assert (await token_with(api, clock.code(secret))).status_code == 200
    assert await mails(store) == []
    clock.step()
    for _ in range(5):
        assert (await token_with(api, "000000")).status_code == 401
    later.move(minutes=15, seconds=1)
    for _ in range(4):  # a new count: 4 wrong codes after the lockout do not lock it again
        assert (await token_with(api, "000000")).status_code == 401
    assert (await token_with(api, clock.code(secret))).status_code == 200
    assert len(await mails(store)) == 1


async def test_every_worker_shares_the_count(database_url, clock, tmp_path) -> None:
    """Two apps on one database (two workers, or two hosts): the count is the account's, not theirs."""
    settings = {"mail_poll_seconds": 3600, "outbox_dir": str(tmp_path / "outbox")}
    workers = [create_app(app_settings(database_url, **settings)) for _ in range(2)]
    async with workers[0].test_app(), workers[1].test_app():
        store = workers[0].extensions["database"].store()
        secret = await enrolled_alice(workers[0], Factory(store, workers[0].extensions["hasher"]), clock)
        for number in range(5):
            assert (await token_with(workers[number % 2].test_client(), "000000")).status_code == 401
        for worker in workers:
            assert locked_for(await token_with(worker.test_client(), clock.code(secret))) > 0
        assert len(await mails(store)) == 1


async def test_wrong_codes_sent_at_once_are_counted_one_by_one(app, factory, store, clock) -> None:
    await enrolled_alice(app, factory, clock)
    responses = await asyncio.gather(*(token_with(app.test_client(), "000000") for _ in range(12)))
    assert sorted(response.status_code for response in responses) == [401] * 5 + [429] * 7
    assert len(await mails(store)) == 1
    assert await store.scalar(select(User.codes_locked_until)) is not None


@pytest.mark.parametrize("limits", [(3, 120)])
async def test_the_limits_areapp_settings(database_url, clock, monkeypatch, tmp_path, limits) -> None:
    count, seconds = limits
    app = create_app(
        app_settings(
            database_url,
            two_factor_max_wrong_codes=count,
            two_factor_lockout_seconds=seconds,
            mail_poll_seconds=3600,
            outbox_dir=str(tmp_path / "outbox"),
        )
    )
    async with app.test_app():
        store = app.extensions["database"].store()
        secret = await enrolled_alice(app, Factory(store, app.extensions["hasher"]), clock)
        later = Later(monkeypatch)
        api = app.test_client()
        for _ in range(count):
            assert (await token_with(api, "000000")).status_code == 401
        assert seconds - 5 <= locked_for(await token_with(api, clock.code(secret))) <= seconds
        [mail] = await mails(store)
        assert f"{count} wrong" in mail.body and f"{seconds // 60} minutes" in mail.body
        later.move(seconds=seconds + 1)
        assert (await token_with(api, clock.code(secret))).status_code == 200


async def test_a_wrong_password_says_nothing_of_the_lockout(app, factory, clock) -> None:
    """Only someone with the password learns that the account's codes are locked."""
    await enrolled_alice(app, factory, clock)
    api = app.test_client()
    for _ in range(5):
        await token_with(api, "000000")
    response = await api.post(
        "/api/token", json={"email": "alice@example.com", "password": "not the password", "otp": "000000"}
    )
    assert response.status_code == 401 and (await response.get_json()) == {"error": "Invalid credentials"}
