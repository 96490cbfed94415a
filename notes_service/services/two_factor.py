"""Two-factor sign-in: turning it on and off, checking a code once, recovery codes, pending sign-ins,
and the account's lockout after too many wrong sign-in codes.

Every function that changes something runs inside the caller's write block. A code is accepted by a
conditional UPDATE (a TOTP step later than the last one used) or DELETE (an unused recovery code),
so two requests racing with the same code cannot both succeed, on SQLite or PostgreSQL.

Sign-in codes (`check_sign_in_code`: `/login/2fa` and `POST /api/token`) are also counted per
account, in the user's row: every worker and host shares the count, Redis or not, and the owner's
mail is queued in the very transaction that starts a lockout, so it goes once per lockout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, delete, insert, or_, select, update

from ..data import Read, Store, UTCDateTime, utcnow
from ..data.models import PendingSignIn, RecoveryCode, User
from . import account_mail, users
from .security import digest, new_secret
from .totp import SecretBox, is_totp, matching_step, normalise, user_context

MAX_ATTEMPTS = 5  # wrong codes that end a pending sign-in (SPEC §8)

STORED_SECRET = select(User.totp_secret).where(User.id == bindparam("id"))
RECOVERY_CODES_LEFT = select(RecoveryCode.id).where(RecoveryCode.user_id == bindparam("user_id"))


async def stored_secret(store: Store, box: SecretBox, *, user_id: int) -> str | None:
    """The user's TOTP secret, or None when two-factor sign-in is off (or the key has changed)."""
    sealed = await store.scalar(STORED_SECRET, id=user_id)
    return None if sealed is None else box.open(sealed, context=user_context(user_id))


async def recovery_codes_left(store: Store, *, user_id: int) -> int:
    return len(await store.rows(RECOVERY_CODES_LEFT, user_id=user_id))


async def turn_on(
    store: Store, box: SecretBox, *, user_id: int, secret: str, step: int, codes: list[str]
) -> None:
    """Store the secret (encrypted) and the step of the code that confirmed it, and new recovery codes;
    the security stamp changes (every sign-in of before ends but those the caller re-stamps)."""
    sealed = box.seal(secret, context=user_context(user_id))
    await store.execute(
        update(User).where(User.id == user_id).values(totp_secret=sealed, totp_last_step=step)
    )
    await users.bump_security_stamp(store, user_id=user_id)
    await replace_recovery_codes(store, user_id=user_id, codes=codes)


async def turn_off(store: Store, *, user_id: int) -> None:
    """Forget the secret, the recovery codes and any sign-in waiting for a code; the security stamp
    changes."""
    await store.execute(update(User).where(User.id == user_id).values(totp_secret=None, totp_last_step=None))
    await users.bump_security_stamp(store, user_id=user_id)
    await store.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    await store.execute(delete(PendingSignIn).where(PendingSignIn.user_id == user_id))


async def turn_off_by_email(store: Store, *, email: str) -> int | None:
    """`turn_off` for the account with this email (the operator's command); its id, or None."""
    user_id: int | None = await store.scalar(
        select(User.id).where(User.email == bindparam("email")), email=email.strip().lower()
    )
    if user_id is not None:
        await turn_off(store, user_id=user_id)
    return user_id


async def replace_recovery_codes(store: Store, *, user_id: int, codes: list[str]) -> None:
    """The user's recovery codes become these (stored as digests); the old ones stop working."""
    await store.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    rows = [{"user_id": user_id, "code_digest": digest(normalise(code))} for code in codes]
    await store.execute(insert(RecoveryCode).values(rows))


async def accept_code(store: Store, box: SecretBox, *, user_id: int, code: str) -> bool:
    """Inside a write block: True, and the code used up, when it is a TOTP of a step after the last
    one accepted (now ± 1) or one of the user's unused recovery codes."""
    code = normalise(code)
    if is_totp(code):
        secret = await stored_secret(store, box, user_id=user_id)
        step = None if secret is None else matching_step(secret, code)
        if step is None:
            return False
        later = or_(User.totp_last_step.is_(None), User.totp_last_step < step)
        result = await store.execute(
            update(User)
            .where(User.id == user_id, User.totp_secret.is_not(None), later)
            .values(totp_last_step=step)
        )
        return bool(result.rowcount)
    if not code or len(code) > 64:
        return False
    result = await store.execute(
        delete(RecoveryCode).where(RecoveryCode.user_id == user_id, RecoveryCode.code_digest == digest(code))
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class CodeLockout:
    """After `wrong_codes` wrong sign-in codes in a row an account takes none for `lasts` (SPEC §8)."""

    wrong_codes: int
    lasts: timedelta


@dataclass(frozen=True)
class SignInCode:
    """What became of a sign-in's code: accepted (and used up), or not; `retry_after` when the account
    takes no code at the moment (it was not even looked at), in seconds."""

    accepted: bool
    retry_after: int | None = None


class CodeCount(NamedTuple):
    email: str
    wrong_codes: int
    codes_locked_until: datetime | None


CODE_COUNT = Read(
    select(User.email, User.wrong_codes, User.codes_locked_until)
    .where(User.id == bindparam("id"))
    .with_for_update(),
    CodeCount,
)


async def check_sign_in_code(
    store: Store, box: SecretBox, *, user_id: int, code: str, lockout: CodeLockout
) -> SignInCode:
    """Inside a write block: `accept_code` for a sign-in, counted per account whichever route the code
    came by. While the account is locked out no code is checked; the `lockout.wrong_codes`th wrong
    code in a row locks it for `lockout.lasts` and queues one mail to the owner; a right code starts
    the count again. The user's row is locked first (PostgreSQL; SQLite writers are serial), so
    wrong codes sent at once are counted one by one and only one of them starts the lockout."""
    now = utcnow()
    count = await store.row(CODE_COUNT, id=user_id)
    if count is None:
        return SignInCode(False)
    if count.codes_locked_until is not None and count.codes_locked_until > now:
        return SignInCode(False, retry_after=math.ceil((count.codes_locked_until - now).total_seconds()))
    account = update(User).where(User.id == user_id)
    if await accept_code(store, box, user_id=user_id, code=code):
        if count.wrong_codes:
            await store.execute(account.values(wrong_codes=0))
        return SignInCode(True)
    wrong = count.wrong_codes + 1
    if wrong < lockout.wrong_codes:
        await store.execute(account.values(wrong_codes=wrong))
        return SignInCode(False)
    await store.execute(account.values(wrong_codes=0, codes_locked_until=now + lockout.lasts))
    await account_mail.notify_sign_in_attempts(
        store,
        user_id=user_id,
        email=count.email,
        wrong_codes=wrong,
        lockout_minutes=math.ceil(lockout.lasts.total_seconds() / 60),
    )
    return SignInCode(False)


@dataclass(frozen=True)
class Pending:
    """A live pending sign-in and what finishing it needs."""

    id: int
    user_id: int
    email: str
    password_digest: str
    security_stamp: int
    remember: bool
    next_url: str | None
    expires_at: datetime


PENDING = (
    select(
        PendingSignIn.id,
        PendingSignIn.user_id,
        User.email,
        PendingSignIn.password_digest,
        PendingSignIn.security_stamp,
        PendingSignIn.remember,
        PendingSignIn.next_url,
        PendingSignIn.expires_at,
    )
    .join(User, User.id == PendingSignIn.user_id)
    .where(
        PendingSignIn.id_digest == bindparam("digest"),
        PendingSignIn.expires_at > bindparam("now", type_=UTCDateTime),
    )
)


async def start_pending(
    store: Store,
    *,
    user_id: int,
    password_hash: str,
    security_stamp: int,
    remember: bool,
    next_url: str | None,
    lifetime: timedelta,
) -> str:
    """Record a correct password awaiting its code, with the security stamp its checks saw; returns
    the secret for the browser's cookie."""
    secret = new_secret()
    await store.execute(
        insert(PendingSignIn).values(
            id_digest=digest(secret),
            user_id=user_id,
            password_digest=digest(password_hash),
            security_stamp=security_stamp,
            remember=remember,
            next_url=next_url,
            expires_at=utcnow() + lifetime,
        )
    )
    return secret


async def find_pending(store: Store, *, secret: str) -> Pending | None:
    row = await store.row(PENDING, digest=digest(secret), now=utcnow())
    return None if row is None else Pending(*row)


async def count_wrong_code(store: Store, *, pending_id: int) -> bool:
    """One more wrong code; True when that ended the pending sign-in (the `MAX_ATTEMPTS`th)."""
    attempts = (
        await store.execute(
            update(PendingSignIn)
            .where(PendingSignIn.id == pending_id)
            .values(attempts=PendingSignIn.attempts + 1)
            .returning(PendingSignIn.attempts)
        )
    ).scalar_one_or_none()
    if attempts is None or attempts >= MAX_ATTEMPTS:
        await end_pending(store, pending_id=pending_id)
        return True
    return False


async def end_pending(store: Store, *, pending_id: int) -> bool:
    """Delete it; False when another request already had (so only one request finishes it)."""
    return bool((await store.execute(delete(PendingSignIn).where(PendingSignIn.id == pending_id))).rowcount)


async def end_pending_by_secret(store: Store, *, secret: str) -> None:
    await store.execute(delete(PendingSignIn).where(PendingSignIn.id_digest == digest(secret)))


async def delete_expired_pending(store: Store) -> int:
    """Delete every pending sign-in past its five minutes; returns how many."""
    return (await store.execute(delete(PendingSignIn).where(PendingSignIn.expires_at <= utcnow()))).rowcount
