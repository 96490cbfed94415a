"""Delivering the outbox: a sender in each worker, to SMTP or, without it, to .eml files.

The sender is modelled on `serving/housekeeping.py`: a task per worker, started once the database is open,
stopped with the worker. Every `mail_poll_seconds` it looks (one indexed read) for due messages in
`mail_outbox`; when there are some it claims a batch in a short write block (`services/outbox.py`
says why two senders never take the same one), delivers each outside any transaction, then deletes
it, or schedules a retry with a pause that doubles each time, for `mail_give_up_seconds` (24 hours),
after which the message is deleted with an `event=mail_failed` line. A reset request (a row with
`pending_link`) first gets its link and body, in a write block of its own, or is dropped when no
active account has the address (`account_mail.resolve_request`). A message is never logged with
its body: the body holds the link.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncGenerator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
from quart import Quart

from ..config import Settings
from ..data import Database, utcnow
from ..http.logs import clean, event
from ..services import account_mail, outbox

log = logging.getLogger("notes_service.mail.sender")
BATCH = 20
STOP_GRACE_SECONDS = 10.0
FAILING_POLL_SECONDS = 5.0


class Transport(Protocol):
    async def deliver(self, message: EmailMessage, *, message_id: int) -> None:
        """Hand the message on, or raise."""


class SMTPTransport:
    """`smtp://[user:password@]host[:port]` (STARTTLS when the server offers it; port 25 by default)
    or `smtps://…` (TLS from the first byte; port 465), through aiosmtplib."""

    def __init__(self, url: str, *, timeout: float) -> None:
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        self.hostname = parts.hostname or "localhost"
        self.port = parts.port
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    async def deliver(self, message: EmailMessage, *, message_id: int) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.implicit_tls,
            start_tls=False if self.implicit_tls else None,  # None: upgrade when offered
            timeout=self.timeout,
        )


class FileTransport:
    """Without SMTP: each message as `<directory>/<time>-<id>-<random>.eml` (mode 0600: it may hold a
    link), named in an `event=mail_saved` line, so `make run` works with no mail server. The random
    part keeps names unique when ids are not: several databases, or one rebuilt, may share a folder."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    async def deliver(self, message: EmailMessage, *, message_id: int) -> None:
        path = self.directory / f"{utcnow():%Y%m%dT%H%M%S}-{message_id}-{secrets.token_hex(4)}.eml"
        await asyncio.to_thread(self._write, path, message.as_bytes())
        event(log, "mail_saved", message_id=message_id, file=path)

    def _write(self, path: Path, data: bytes) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        partial.replace(path)  # whole or not at all: a reader never sees half a message


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_url:
        return SMTPTransport(settings.smtp_url, timeout=settings.smtp_timeout_seconds)
    return FileTransport(settings.outbox_dir)


def build_message(row: Any, *, mail_from: str) -> EmailMessage:
    """The outbox row as a plain-text message (7bit when it is ASCII, so its link reads as sent)."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    cte = "7bit" if row.body.isascii() else "8bit"
    message.set_content(row.body, cte=cte)
    return message


class Sender:
    """One worker's sender (see the module docstring)."""

    def __init__(self, database: Database, transport: Transport, settings: Settings) -> None:
        self.database = database
        self.transport = transport
        self.settings = settings
        self.lease = timedelta(seconds=settings.mail_lease_seconds)
        self.stopping = asyncio.Event()

    async def send_due(self) -> int:
        """Claim and deliver one batch of due messages; returns how many were claimed."""
        store = self.database.store()
        if not await outbox.any_due(store):
            return 0
        async with store.write():
            claimed = await outbox.claim_due(store, lease=self.lease, limit=BATCH)
        for index, row in enumerate(claimed):
            if self.stopping.is_set():  # the worker is stopping: others may send the rest at once
                async with store.write():
                    await outbox.release(store, message_ids=[row.id for row in claimed[index:]])
                break
            await self._send(row)
        return len(claimed)

    async def _send(self, row: Any) -> None:
        store = self.database.store()
        if row.pending_link is not None:  # a request: its link is made now, or it is dropped
            async with store.write():
                resolved = await account_mail.resolve_request(
                    store, row, base_url=self.settings.link_base_url
                )
            if resolved is None:
                event(log, "mail_request_dropped", message_id=row.id)
                return
            row = row._replace(user_id=resolved.user_id, body=resolved.body)
        try:
            message = build_message(row, mail_from=self.settings.mail_from)
            await asyncio.wait_for(
                self.transport.deliver(message, message_id=row.id), self.settings.smtp_timeout_seconds
            )
        except Exception as error:  # any failure is retried: the message must not be lost
            reason = f"{type(error).__name__}: {error}"
            now = utcnow()
            give_up_at = row.created_at + timedelta(seconds=self.settings.mail_give_up_seconds)
            async with store.write():
                if now >= give_up_at:
                    await outbox.delete_message(store, message_id=row.id)
                else:
                    retry_at = min(now + self.pause(row.attempts), give_up_at)
                    await outbox.retry_later(store, message_id=row.id, at=retry_at, error=reason)
            if now >= give_up_at:
                log.error(
                    "event=mail_failed message_id=%s user_id=%s attempts=%s error=%s",
                    row.id,
                    row.user_id,
                    row.attempts,
                    clean(reason),
                )
            else:
                event(log, "mail_retry", message_id=row.id, attempts=row.attempts, error=reason)
            return
        async with store.write():
            await outbox.delete_message(store, message_id=row.id)
        event(log, "mail_sent", message_id=row.id, user_id=row.user_id, attempts=row.attempts)

    def pause(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failure: doubling from the first, up to the maximum."""
        seconds = self.settings.mail_retry_seconds * 2 ** min(attempts - 1, 40)
        return timedelta(seconds=min(seconds, self.settings.mail_retry_max_seconds))

    async def run(self) -> None:
        """Batches until stopped. While rounds fail (the database is down, say) the first failure is
        logged with its traceback, the next ones are not, rounds come every FAILING_POLL_SECONDS at
        most, and `event=mail_sender_restored` marks the end of the outage."""
        failing = False
        while not self.stopping.is_set():
            pause = self.settings.mail_poll_seconds
            try:
                claimed = await self.send_due()
            except Exception:  # the database may be down for a while; try again
                if not failing:
                    log.exception("event=mail_sender_failed")
                failing, claimed = True, 0
                pause = max(pause, FAILING_POLL_SECONDS)
            else:
                if failing:
                    event(log, "mail_sender_restored")
                failing = False
            if claimed < BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), pause)


def init_app(app: Quart) -> None:
    """Run the sender while the app serves: Quart starts `while_serving` after every
    `before_serving` hook (so the database is open) and ends it before any `after_serving` hook
    (so the database is still open while the message in hand finishes, up to STOP_GRACE_SECONDS)."""
    settings: Settings = app.config["NOTES"]

    @app.while_serving
    async def run_sender() -> AsyncGenerator[None, None]:
        sender = Sender(app.extensions["database"], transport_for(settings), settings)
        task = asyncio.create_task(sender.run())
        if not settings.smtp_url:
            event(log, "mail_to_files", directory=settings.outbox_dir)
        yield
        sender.stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
        except (TimeoutError, Exception):  # stopping regardless
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
