"""The benchmark's feature scenarios measure what they claim: seeded 2FA users sign in with the codes
the benchmark computes, no user is offered the same TOTP step twice, and the mail tally sees a lost
message and one delivered twice."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from bench import seed, two_factor
from bench.mail import tally
from notes_service.services import totp

pytestmark = pytest.mark.sqlite_pass_only

SECRET_KEY = "k" * 48


def test_seeded_secret_is_stored_as_the_service_stores_it() -> None:
    dataset = seed.make_dataset()
    columns, rows = seed._service_tables(dataset, "hash", deep=False, secret_key=SECRET_KEY)["users"]
    stored = {row[0]: row[columns.index("totp_secret")] for row in rows}
    account = dataset.two_factor[0]
    box = totp.secret_box(SECRET_KEY)
    secret = box.open(stored[account.id], context=totp.user_context(account.id))
    assert secret == account.totp_secret
    step = totp.current_step()
    assert totp.matching_step(secret, two_factor.code(secret, step)) == step
    assert stored[dataset.reader.id] is None  # the other users keep two-factor sign-in off


async def test_pool_never_lends_a_user_twice_in_one_step(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000_000 * totp.STEP_SECONDS + 1.0]
    waits: list[float] = []

    class Pool(two_factor.Pool):
        async def next_step(self, seconds: float) -> None:  # move the clock instead of waiting
            waits.append(seconds)
            now[0] += seconds

    monkeypatch.setattr(totp, "clock", lambda: now[0])
    accounts = seed.make_dataset().two_factor[:2]
    pool = Pool(accounts)
    for _ in accounts:
        account = await pool.take()
        pool.give_back(account, totp.current_step())
    step = totp.current_step()
    assert await pool.take() == accounts[0]  # the least recently used, once the next step began
    assert len(waits) == 1 and totp.current_step() == step + 1


def message(to: str, link: str) -> EmailMessage:
    found = EmailMessage()
    found["To"] = to
    found.set_content(f"Open this link:\n\n{link}\n")
    return found


def test_tally_counts_a_lost_message_and_one_delivered_twice() -> None:
    queued = {"a@x.example": 0.0, "b@x.example": 0.0, "c@x.example": 0.0}
    messages = [
        message("a@x.example", "http://x/reset?token=1"),
        message("b@x.example", "http://x/reset?token=2"),
        message("a@x.example", "http://x/reset?token=1"),
    ]
    figures = tally(queued, messages, [1.0, 1.5, 2.0])
    assert (figures["lost"], figures["duplicated"], figures["errors"]) == (1, 1, 2)
    assert figures["requests_per_second"] == 1.0  # two distinct messages in two seconds


def test_tally_of_a_clean_round() -> None:
    queued = {"a@x.example": 0.0, "b@x.example": 0.5}
    messages = [message("a@x.example", "http://x/r?token=1"), message("b@x.example", "http://x/r?token=2")]
    figures = tally(queued, messages, [0.5, 1.0])
    assert figures["errors"] == 0
    assert figures["p99_ms"] == 500.0
