"""Passwords, random secrets and their digests, and the safe-redirect rule.

Every password hash goes through `PasswordHasher`, which runs bcrypt in a small thread pool so the
event loop never stalls (one hash at cost 12 takes about a quarter of a second). We use passlib's
`bcrypt_sha256`: plain bcrypt ignores everything after 72 bytes, so two long passwords sharing a
prefix would verify alike; pre-hashing with SHA-256 (done inside passlib, HMAC-keyed) removes that.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeGuard, TypeVar
from urllib.parse import urlsplit

from passlib.context import CryptContext

Result = TypeVar("Result")
TOKEN_PREFIX = "nts_"
BCRYPT_NICENESS = 10
MIN_COST = 4  # bcrypt's lowest


class PasswordHasher:
    """Hash and verify passwords off the event loop, with bounded concurrency."""

    def __init__(self, rounds: int, max_workers: int | None = None) -> None:
        self.rounds = rounds
        self.context = CryptContext(schemes=["bcrypt_sha256"], bcrypt_sha256__rounds=rounds)
        self.executor = ThreadPoolExecutor(
            max_workers=max_workers or os.cpu_count() or 2,
            thread_name_prefix="bcrypt",
            initializer=_yield_to_requests,
        )
        # Made once, here (at start-up): made on first use, it cost the first unknown email a second hash.
        self.dummy_hash = self.context.hash(secrets.token_urlsafe(16))
        handler = self.context.handler()
        self._padding = [handler.using(rounds=cost) for cost in range(MIN_COST, rounds)]

    async def hash(self, password: str) -> str:
        return await self._run(self.context.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        """Check a password; returns (ok, new_hash) where new_hash is set when the cost changed.

        A wrong password costs the same bcrypt work, 2^rounds, whether or not the account exists:
        see `_verify`.
        """
        return await self._run(self._verify, password, password_hash)

    def _verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        """Unknown accounts (no hash) are checked against the dummy hash, made at the current cost.

        A stored hash made at an older, lower cost c checks in 2^c, which would tell a known account
        from an unknown one until its owner signs in again (and it is rehashed). So a failed check
        against it also hashes the password at costs c, c+1, ..., rounds-1: 2^c + (2^c + ... +
        2^(rounds-1)) = 2^rounds, the dummy's work exactly. We pad only failures (a success is
        rehashed at the current cost anyway), and cannot pad a hash above the current cost (after
        lowering NOTES_BCRYPT_ROUNDS): those accounts check slower until they sign in once.
        """
        if password_hash is None:
            self.context.verify(password, self.dummy_hash)
            return False, None
        ok, new_hash = self.context.verify_and_update(password, password_hash)
        if not ok:
            cost = self.context.handler().from_string(password_hash).rounds
            for padding in self._padding[max(cost - MIN_COST, 0) :]:
                padding.hash(password)
        return ok, new_hash

    async def _run(self, function: Callable[..., Result], *args: Any) -> Result:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _yield_to_requests() -> None:
    """Run bcrypt threads at a lower CPU priority (Linux: nice is per thread).

    A flood of logins then takes only the CPU that request handling leaves over: reads keep their
    latency, and the hashes still use every idle cycle.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BCRYPT_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass


def new_secret(prefix: str = "") -> str:
    """A random secret (256 bits) for a session or an API token."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def is_safe_next(target: str | None) -> TypeGuard[str]:
    """True when `target` is a local path: one leading slash, no scheme, host, `//` or backslash."""
    if not target or not target.startswith("/") or "//" in target:
        return False
    if "\\" in target or any(ord(char) < 32 for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
