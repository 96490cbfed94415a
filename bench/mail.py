"""Mail throughput: password-reset requests queue messages in the outbox, the senders of the
service's 2 workers deliver them to a local SMTP server (aiosmtpd, tests/mailbox.py), and we time
from the first request sent to the last message received.

Why `POST /api/password/forgot`: it is the cheapest request that queues a message (no bcrypt, unlike
registering; no session or CSRF token, unlike the resend button), so the figure is the outbox's and
not the requests'. Its per-address throttle is off in the benchmark (NOTES_AUTH_RATE_LIMIT=off) and
every address is asked for once a round anyway, each of a different seeded user. Its sameness for
unknown addresses is two INSERT ... SELECT statements that find no user; here every address is
known, so each request queues exactly one message, and each message carries a fresh link, so one
delivered twice would show.

Exactly once: after the last message arrives we wait until the outbox table is empty (a row is
deleted right after its SMTP exchange, so nothing can be sent again after that), then count the
messages of each recipient and the distinct links.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from tests.mailbox import Mailbox, link_in

from .logins import percentile
from .seed import Account

SENDERS = 16  # concurrent password-reset requests
DELIVERY_TIMEOUT = 120.0
DRAIN_TIMEOUT = 30.0


class Inbox(Mailbox):
    """The test suite's SMTP server, also noting when each message arrived (time.monotonic)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # the name aiosmtpd calls
        answer = await super().handle_DATA(server, session, envelope)
        with self.lock:
            self.arrived.append(time.monotonic())
        return answer

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.arrived.clear()


def sqlite_path(database_url: str) -> Path:
    """The file of a `sqlite+aiosqlite:///...` URL (the service's NOTES_DATABASE_URL)."""
    database = make_url(database_url).database
    if not database:
        raise ValueError(f"not a SQLite file URL: {database_url}")
    return Path(database)


class MailProbe:
    """One round: a reset for each of `accounts`, then every message awaited and counted."""

    connections = SENDERS

    def __init__(self, base_url: str, inbox: Inbox, accounts: tuple[Account, ...], database: Path) -> None:
        self.base_url = base_url
        self.inbox = inbox
        self.accounts = accounts
        self.database = database

    async def run(self) -> dict[str, Any]:
        self.inbox.clear()
        queued, refused = await self._request_resets()
        await self._until(lambda: len(self.inbox.arrived) >= len(queued), DELIVERY_TIMEOUT)
        await self._until(self._outbox_empty, DRAIN_TIMEOUT)
        with self.inbox.lock:
            messages, arrived = list(self.inbox.messages), list(self.inbox.arrived)
        figures = tally(queued, messages, arrived)
        return {**figures, "errors": figures["errors"] + refused, "refused": refused}

    async def _request_resets(self) -> tuple[dict[str, float], int]:
        """POST a reset for every account, SENDERS at a time; when each was sent, and how many failed."""
        queued: dict[str, float] = {}
        pending = list(self.accounts)
        refused = 0

        async def send(http: httpx.AsyncClient) -> None:
            nonlocal refused
            while pending:
                email = pending.pop().email
                sent = time.monotonic()
                response = await http.post("/api/password/forgot", json={"email": email})
                if response.status_code == 202:
                    queued[email] = sent
                else:
                    refused += 1

        limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
        async with httpx.AsyncClient(
            base_url=self.base_url, limits=limits, timeout=30, trust_env=False
        ) as http:
            await asyncio.gather(*(send(http) for _ in range(SENDERS)))
        return queued, refused

    def _outbox_empty(self) -> bool:
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            (queued,) = connection.execute("SELECT count(*) FROM mail_outbox").fetchone()
            return int(queued) == 0
        finally:
            connection.close()

    @staticmethod
    async def _until(condition: Callable[[], bool], within: float) -> bool:
        """Wait (polling every 10 ms) until `condition()` holds, or `within` seconds have passed."""
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True


def tally(queued: dict[str, float], messages: list[EmailMessage], arrived: list[float]) -> dict[str, Any]:
    """The round's figures from when each address's reset was sent and what arrived when.

    A message is lost when its address received none, and delivered twice when its link came twice
    (each reset carries a link of its own); messages/s counts each link once, from the first reset
    sent to the last message received.
    """
    recipients = [str(message["To"]) for message in messages]
    lost = len(queued.keys() - set(recipients))
    delivered = len({link_in(message) for message in messages})
    duplicated = len(messages) - delivered
    latencies = sorted(
        (moment - queued[email]) * 1000
        for email, moment in zip(recipients, arrived, strict=True)
        if email in queued
    )
    first_sent = min(queued.values(), default=0.0)
    elapsed = max(arrived, default=first_sent) - first_sent
    return {
        "requests_per_second": delivered / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "requests": len(queued),
        "errors": lost + duplicated,
        "messages": len(messages),
        "lost": lost,
        "duplicated": duplicated,
        "seconds": elapsed,
    }


def check(base_url: str, inbox: Inbox, account: Account) -> None:
    """One reset before measuring: its message must arrive over SMTP (the sender is configured)."""
    inbox.clear()
    response = httpx.post(
        f"{base_url}/api/password/forgot", json={"email": account.email}, trust_env=False, timeout=30
    )
    if response.status_code != 202:
        raise RuntimeError(f"POST /api/password/forgot answered {response.status_code}, expected 202")
    inbox.wait_for(1, within=30, to=account.email)
