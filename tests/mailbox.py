"""A real SMTP server for tests (aiosmtpd on a free port) that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from notes_service.data.models import OutboxMessage
from tests.server import free_port

LINK = re.compile(r"^(https?://\S+)$", re.MULTILINE)


class Mailbox:
    """Every message the server accepted, parsed; `down()`/`up()` stop and restart it on its port."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # the name aiosmtpd calls
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def up(self) -> Mailbox:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def received(self, subject: str | None = None, to: str | None = None) -> list[EmailMessage]:
        with self.lock:
            return [
                message
                for message in self.messages
                if (subject is None or message["Subject"] == subject) and (to is None or message["To"] == to)
            ]

    def wait_for(self, count: int = 1, within: float = 10.0, **match: str) -> list[EmailMessage]:
        """Block (briefly sleeping) until `count` matching messages arrived; fail after `timeout`."""
        deadline = time.monotonic() + within
        while len(found := self.received(**match)) < count:
            assert time.monotonic() < deadline, f"{len(found)} of {count} messages {match} within {within}s"
            time.sleep(0.02)
        return found

    async def arrive(self, count: int = 1, within: float = 10.0, **match: str) -> list[EmailMessage]:
        """`wait_for` for async tests: sleeps on the event loop, so an in-process sender runs."""
        deadline = time.monotonic() + within
        while len(found := self.received(**match)) < count:
            assert time.monotonic() < deadline, f"{len(found)} of {count} messages {match} within {within}s"
            await asyncio.sleep(0.02)
        return found


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content: str = part.get_content().replace("\r\n", "\n")
    return content


def link_in(message: EmailMessage) -> str:
    """The message's link (on a line of its own)."""
    match = LINK.search(body_of(message))
    assert match, body_of(message)
    return match.group(1)


async def outbox_drained(store: Any, within: float = 5.0) -> bool:
    """Whether the outbox is empty, waiting up to `within`: the sender deletes a row only after its
    SMTP exchange is over, a moment after the server has the message."""
    deadline = time.monotonic() + within
    while await store.scalar(select(func.count(OutboxMessage.id))):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True
