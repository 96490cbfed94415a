"""What the tests share besides fixtures: accounts, quick retries, the server's mailed links."""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.server import Server

from notes_client import Retry

PASSWORD = "correct horse battery"
_numbers = itertools.count(1)
# Retries in tests pause for at most 0.2 s, whatever Retry-After says.
FAST = Retry(attempts=4, max_wait=0.2, first_wait=0.05)


@dataclass(frozen=True)
class Account:
    username: str
    email: str
    password: str


def new_account() -> Account:
    name = f"user{next(_numbers)}_{uuid.uuid4().hex[:8]}"
    return Account(name, f"{name}@example.com", PASSWORD)


class Sleeps:
    """An injectable `sleep` that records the pauses asked for and waits for none of them."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        await asyncio.sleep(0)


async def mailed_token(server: Server, address: str, subject: str) -> str:
    """The link token of the newest message with `subject` to `address` in the server's outbox
    (the server's sender writes it within a second or so)."""
    return await asyncio.to_thread(_wait_for_mail, Path(server.env["NOTES_OUTBOX_DIR"]), address, subject)


def _wait_for_mail(outbox: Path, address: str, subject: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == address and message["Subject"] == subject:
                body = message.get_body(("plain",))
                assert body is not None
                found = re.search(r"token=([A-Za-z0-9_-]+)", body.get_content())
                assert found, body.get_content()
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no {subject!r} mail to {address} in {outbox}")
