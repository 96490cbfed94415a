"""Password hashing, secrets and the safe-next rule."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import bcrypt
import pytest

from notes_service.services.security import PasswordHasher, digest, is_safe_next, new_secret


async def test_hash_verifies_only_the_same_password(hasher) -> None:
    password_hash = await hasher.hash("correct horse")
    assert password_hash.startswith("$bcrypt-sha256$") and "correct horse" not in password_hash
    assert (await hasher.verify("correct horse", password_hash))[0] is True
    assert (await hasher.verify("correct horsf", password_hash))[0] is False


async def test_passwords_longer_than_72_bytes_are_not_truncated(hasher) -> None:
    """Plain bcrypt ignores everything after byte 72; two such passwords must not verify alike."""
    common = "x" * 72
    password_hash = await hasher.hash(common + "A" * 28)  # 100 bytes
    assert (await hasher.verify(common + "A" * 28, password_hash))[0] is True
    assert (await hasher.verify(common + "B" * 28, password_hash))[0] is False
    assert (await hasher.verify(common, password_hash))[0] is False


async def test_outdated_cost_is_upgraded_on_verify() -> None:
    old, new = PasswordHasher(rounds=4), PasswordHasher(rounds=5)
    password_hash = await old.hash("pw-123456")
    ok, upgraded = await new.verify("pw-123456", password_hash)
    assert ok and upgraded is not None and "r=5" in upgraded
    assert await new.verify("pw-123456", upgraded) == (True, None)
    old.close(), new.close()


async def test_a_wrong_password_costs_the_same_whether_or_not_the_account_exists(monkeypatch) -> None:
    """Counted in bcrypt work (2^cost per run, recorded at bcrypt itself), not in wall time, which a
    busy machine blurs. Accounts hashed at an older, lower cost must not answer faster than unknown
    emails, and the first unknown email must not pay for making the dummy hash."""
    old, hasher = PasswordHasher(rounds=4), PasswordHasher(rounds=7)
    stored = {"old cost": await old.hash("pw-old-account"), "current cost": await hasher.hash("pw-current")}
    costs: list[int] = []
    hashpw = bcrypt.hashpw

    def counted(password: bytes, salt: bytes) -> bytes:
        costs.append(int(salt.split(b"$")[2]))
        return hashpw(password, salt)

    monkeypatch.setattr(bcrypt, "hashpw", counted)
    work = {}
    for name, password_hash in {"unknown": None, **stored, "unknown again": None}.items():
        costs.clear()
        assert await hasher.verify("wrong password", password_hash) == (False, None)
        work[name] = sum(2**cost for cost in costs)
    assert work == dict.fromkeys(["unknown", "old cost", "current cost", "unknown again"], 2**7)
    old.close(), hasher.close()


async def test_hashing_runs_off_the_event_loop() -> None:
    """While bcrypt works, the loop keeps ticking (it would stall if bcrypt ran inline)."""
    hasher = PasswordHasher(rounds=10)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    await asyncio.gather(*(hasher.hash("pw") for _ in range(4)))
    elapsed = time.perf_counter() - started
    task.cancel()
    hasher.close()
    # Inline hashing would leave ~0 ticks; off-loop the ticker runs throughout.
    assert ticks > elapsed / 0.001 * 0.1


def test_secrets_are_random_and_digests_stable() -> None:
    assert new_secret() != new_secret()
    assert len(new_secret()) >= 43
    assert digest("abc") == digest("abc") != digest("abd")
    assert len(digest("abc")) == 64


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/", True),
        ("/notes?page=2", True),
        ("/notes/1/edit", True),
        (None, False),
        ("", False),
        ("notes", False),
        ("//evil.example", False),
        ("///evil.example", False),
        ("/notes//evil.example", False),
        ("/\\evil.example", False),
        ("\\\\evil.example", False),
        ("https://evil.example", False),
        ("http:/evil.example", False),
        ("javascript:alert(1)", False),
        ("/\tevil", False),
    ],
)
def test_safe_next(target, safe) -> None:
    assert is_safe_next(target) is safe


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread nice is Linux only")
async def test_bcrypt_threads_yield_the_cpu_to_requests(hasher) -> None:
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    in_pool = await asyncio.get_running_loop().run_in_executor(hasher.executor, niceness)
    assert in_pool > niceness()  # the event loop keeps its priority
