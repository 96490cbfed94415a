"""The outbox and its sender: delivered once, within seconds, retried through outages, never lost."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import time
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from notes_service import create_app
from notes_service.config import load_settings
from notes_service.data import Database, utcnow
from notes_service.data.models import OutboxMessage
from notes_service.mail.sender import FileTransport, Sender, transport_for
from notes_service.services import outbox
from tests.mailbox import Mailbox, body_of, outbox_drained

BODY = "Hello.\n\nhttps://notes.example.com/some/link?token=abc\n"


async def queue(database_url: str, count: int = 1, subject: str = "Reset your password") -> None:
    """Queue messages the way a route does, from a process with no sender running."""
    database = await Database.open(database_url)
    store = database.store()
    try:
        async with store.write():
            for number in range(count):
                await outbox.queue_message(
                    store, user_id=None, recipient=f"r{number}@example.com", subject=subject, body=BODY
                )
    finally:
        await database.close()


def eml_files(directory: str) -> list[Path]:
    return list(Path(directory).glob("*.eml"))


async def outbox_rows(store: Any) -> list[Any]:
    return await store.rows(select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.last_error))


async def test_a_queued_message_is_delivered_once_then_deleted(mail_settings, mailbox: Mailbox) -> None:
    await queue(mail_settings["database_url"])
    app = create_app(mail_settings)
    async with app.test_app():
        store = app.extensions["database"].store()
        (message,) = await mailbox.arrive(to="r0@example.com")
        assert await outbox_drained(store)
    assert message["Subject"] == "Reset your password"
    assert message["From"] == "notes-service <no-reply@localhost>"
    assert body_of(message) == BODY
    assert len(mailbox.received()) == 1


async def test_without_smtp_each_message_is_an_eml_file_named_in_the_log(settings, tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="notes_service")
    settings.update(mail_poll_seconds=0.05)
    await queue(settings["database_url"])
    app = create_app(settings)
    async with app.test_app():
        for _ in range(200):
            if files := eml_files(settings["outbox_dir"]):
                break
            await asyncio.sleep(0.02)
    (path,) = files
    assert path.stat().st_mode & 0o077 == 0
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Reset your password"
    assert "https://notes.example.com/some/link?token=abc" in path.read_text()  # 7bit: readable as is
    assert f"event=mail_saved message_id=1 file={path}" in caplog.text


async def test_smtp_down_then_up_delivers_every_queued_message_once(mail_settings, mailbox: Mailbox) -> None:
    mailbox.down()
    mail_settings.update(mail_retry_seconds=0.05, mail_retry_max_seconds=0.2)
    await queue(mail_settings["database_url"], count=5)
    app = create_app(mail_settings)
    async with app.test_app():
        store = app.extensions["database"].store()
        await asyncio.sleep(0.5)
        rows = await outbox_rows(store)
        assert len(rows) == 5
        assert all(row.attempts >= 2 and "SMTP" in row.last_error for row in rows), rows
        mailbox.up()
        await mailbox.arrive(5)
        assert await outbox_drained(store)
    assert sorted(message["To"] for message in mailbox.received()) == [f"r{n}@example.com" for n in range(5)]


async def test_a_message_is_given_up_after_the_give_up_time(mail_settings, mailbox, caplog) -> None:
    caplog.set_level(logging.INFO, logger="notes_service")
    mailbox.down()
    mail_settings.update(mail_retry_seconds=0.05, mail_give_up_seconds=0.4)
    await queue(mail_settings["database_url"])
    app = create_app(mail_settings)
    async with app.test_app():
        store = app.extensions["database"].store()
        for _ in range(100):
            if not await outbox_rows(store):
                break
            await asyncio.sleep(0.05)
        assert await outbox_rows(store) == []
    failed = [record.getMessage() for record in caplog.records if "event=mail_failed" in record.getMessage()]
    assert len(failed) == 1 and "message_id=1" in failed[0]
    assert "token=abc" not in caplog.text


def test_pauses_double_up_to_the_maximum() -> None:
    settings = load_settings(
        {"secret_key": "x" * 40, "mail_retry_seconds": 30, "mail_retry_max_seconds": 3600}
    )
    sender = Sender(None, None, settings)  # type: ignore[arg-type]
    assert [sender.pause(n).total_seconds() for n in (1, 2, 3, 7, 8, 50)] == [30, 60, 120, 1920, 3600, 3600]


async def test_a_message_claimed_by_a_worker_that_died_is_sent_once_its_lease_ends(
    mail_settings, mailbox: Mailbox, monkeypatch
) -> None:
    """Event-driven, not timed: the sender is seen looking (three rounds) while the lease holds,
    then the lease is made to end (its row's `next_attempt_at` moved to the past)."""
    await queue(mail_settings["database_url"])
    database = await Database.open(mail_settings["database_url"])
    store = database.store()
    async with store.write():  # a worker claims it, then dies before sending
        (claimed,) = await outbox.claim_due(store, lease=timedelta(hours=1), limit=10)
    await database.close()
    looked = asyncio.Event()
    rounds = 0
    any_due = outbox.any_due

    async def counted(store: Any) -> bool:
        nonlocal rounds
        rounds += 1
        if rounds >= 3:
            looked.set()
        return await any_due(store)

    monkeypatch.setattr(outbox, "any_due", counted)
    app = create_app(mail_settings)
    async with app.test_app():
        await asyncio.wait_for(looked.wait(), 10)
        assert mailbox.received() == []  # the lease still holds
        app_store = app.extensions["database"].store()
        async with app_store.write():  # the lease ends
            await app_store.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == claimed.id)
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
        await mailbox.arrive(1)
        assert await outbox_drained(app_store)
    assert len(mailbox.received()) == 1


async def test_two_senders_never_deliver_one_message_twice(mail_settings, mailbox: Mailbox) -> None:
    count = 60
    await queue(mail_settings["database_url"], count=count)
    settings = load_settings(mail_settings)
    databases = [await Database.open(settings.database_url) for _ in range(2)]
    senders = [Sender(database, transport_for(settings), settings) for database in databases]
    sent = [0, 0]

    async def drain(index: int) -> None:
        while (claimed := await senders[index].send_due()) or mailbox.received().__len__() < count:
            sent[index] += claimed
            await asyncio.sleep(0)
            if not claimed and len(mailbox.received()) >= count:
                break

    try:
        await asyncio.wait_for(asyncio.gather(drain(0), drain(1)), 30)
    finally:
        for database in databases:
            await database.close()
    recipients = [message["To"] for message in mailbox.received()]
    assert sorted(recipients) == sorted(f"r{n}@example.com" for n in range(count))
    assert sum(sent) == count


async def test_the_sender_reads_only_while_nothing_is_due(mail_settings, store) -> None:
    # A future message: due later, so no sender may claim (or write) now.
    await queue(mail_settings["database_url"])
    async with store.write():
        await store.execute(update(OutboxMessage).values(next_attempt_at=utcnow() + timedelta(hours=1)))
    assert not await outbox.any_due(store)
    async with store.write():
        assert await outbox.claim_due(store, lease=timedelta(minutes=5), limit=10) == []
    assert await store.scalar(select(func.count(OutboxMessage.id))) == 1


async def test_with_the_default_poll_a_message_leaves_within_5_seconds(settings, mailbox: Mailbox) -> None:
    settings.update(smtp_url=mailbox.url)  # NOTES_MAIL_POLL_SECONDS left at its default
    app = create_app(settings)
    async with app.test_app():
        await asyncio.sleep(0.1)  # the sender is up and has found nothing due
        await queue(settings["database_url"])
        started = time.monotonic()
        await mailbox.arrive(1, within=5.0)
    print(f"delivered {time.monotonic() - started:.2f} s after it was queued")


def test_the_smtp_url_gives_host_port_tls_and_decoded_credentials() -> None:
    from notes_service.mail.sender import SMTPTransport

    implicit = SMTPTransport("smtps://no-reply%40example.com:p%40ss@mail.example.com:465", timeout=5)
    assert (implicit.hostname, implicit.port, implicit.implicit_tls) == ("mail.example.com", 465, True)
    assert (implicit.username, implicit.password) == ("no-reply@example.com", "p@ss")
    plain = SMTPTransport("smtp://localhost", timeout=5)
    assert (plain.port, plain.implicit_tls, plain.username, plain.password) == (None, False, None, None)


async def test_an_unreachable_database_is_logged_once_per_outage(mail_settings, caplog, monkeypatch) -> None:
    import notes_service.mail.sender as mail

    caplog.set_level(logging.INFO, logger="notes_service")
    monkeypatch.setattr(mail, "FAILING_POLL_SECONDS", 0.05)
    app = create_app(mail_settings)
    async with app.test_app():
        calls = {"n": 0}

        async def down() -> bool:
            calls["n"] += 1
            if calls["n"] <= 5:
                raise ConnectionError("database unreachable")
            return False

        monkeypatch.setattr(outbox, "any_due", lambda store: down())
        for _ in range(100):
            if calls["n"] > 6:
                break
            await asyncio.sleep(0.05)
    assert caplog.text.count("event=mail_sender_failed") == 1
    assert caplog.text.count("event=mail_sender_restored") == 1


async def test_eml_files_never_share_a_name(tmp_path) -> None:
    """Message ids repeat across databases (and did on SQLite once a message was deleted): every
    .eml file must still be a file of its own (issue 20 item 14)."""
    transport = FileTransport(str(tmp_path))
    message = EmailMessage()
    message["Subject"] = "Reset your password"
    message.set_content("hello")
    for _ in range(3):
        await transport.deliver(message, message_id=1)
    assert len(eml_files(str(tmp_path))) == 3
