"""What an account's email is for: reset links, confirmation links and notices (SPEC §7).

Each function runs inside the caller's write block, so a message is queued in the outbox in the
same transaction as the change it reports (or the link it carries), and neither exists without the
other. Links are built from `base_url` (NOTES_PUBLIC_URL), never from a request.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..data import Store, utcnow
from ..data.models import OutboxMessage, User
from . import auth_sessions, link_tokens, outbox, tokens, users

RESET_SUBJECT = "Reset your password"
CONFIRM_SUBJECT = "Confirm your email address"
PASSWORD_CHANGED_SUBJECT = "Your password was changed"
EMAIL_CHANGED_SUBJECT = "Your email address was changed"
SIGN_IN_ATTEMPTS_SUBJECT = "Someone is trying to sign in to your account"
RESET_PATH = "/password/reset"
VERIFY_PATH = "/email/verify"

RESET_BODY = """\
Someone asked to reset the password of your notes-service account.
To choose a new password, open this link within 60 minutes (it works once):

{link}

If it was not you, ignore this message: your password stays as it is.
"""
CONFIRM_BODY = """\
Please confirm that {email} is your address for notes-service by opening this link within 7 days:

{link}

If you did not ask for this, ignore this message.
"""
EMAIL_CHANGED_BODY = """\
The email address of your notes-service account was changed to {email}.
Messages about the account go there from now on.

If it was not you, contact us at once: someone who knows your password changed it.
"""
PASSWORD_CHANGED_BODY = """\
The password of your notes-service account was just changed.

If it was you, there is nothing to do. If it was not, reset your password at once with
"Forgot your password?" on the sign-in page, and check your account's settings.
"""


SIGN_IN_ATTEMPTS_BODY = """\
Someone signed in to your notes-service account with the right password, then gave {count} wrong
two-factor codes in a row. For the next {minutes} minutes the account takes no code, so nobody can
finish signing in (your sessions that are signed in already go on as before).

If it was not you, someone knows your password: change it now in the account's settings, or with
"Forgot your password?" on the sign-in page.
"""


ACCOUNT_EMAIL = select(User.email).where(User.id == bindparam("id"))
ACCOUNT_FOR_LINK = (
    select(User.id, User.security_stamp)
    .where(User.email == bindparam("email"), User.is_active.is_(True))
    .with_for_update()
)


def link(base_url: str, path: str, secret: str) -> str:
    return f"{base_url}{path}?token={secret}"


async def request_password_reset(store: Store, *, email: str) -> None:
    """Queue a reset request for the address: the sender makes the link, for the active account
    with this address if there is one (`resolve_request`).

    Known and unknown addresses do the very same work here, so neither the answer nor its timing
    tells them apart: one INSERT of one row of the same size, whose `security_stamp` (read by a
    subquery of the same INSERT) is the account's or NULL. Inserting a link and a message only for a
    known address made that path 0.4-0.8 ms slower at the median (issue #20, item 9).
    """
    address = email.strip().lower()
    stamp = (
        select(User.security_stamp).where(User.email == address, User.is_active.is_(True)).scalar_subquery()
    )
    now = utcnow()
    await store.execute(
        insert(OutboxMessage).values(
            user_id=None,
            recipient=address,
            subject=RESET_SUBJECT,
            body="",
            created_at=now,
            next_attempt_at=now,
            pending_link=link_tokens.RESET,
            security_stamp=stamp,
        )
    )


class Resolved(NamedTuple):
    """A request made an ordinary message: its account and its body."""

    user_id: int
    body: str


async def resolve_request(store: Store, request: outbox.Message, *, base_url: str) -> Resolved | None:
    """Inside a write block: make the link of a queued reset request and its message's body (the
    request becomes an ordinary message), or delete the request and return None.

    Only for the active account that has the address now and the security stamp it had when the
    reset was asked for (a password change, 2FA change or deactivation since voids the request,
    as it voids a link made then), and only within a reset link's lifetime of the request. The
    account's row is locked (PostgreSQL), so no password change slips between check and link.
    """
    account = await store.row(ACCOUNT_FOR_LINK, email=request.recipient)
    live = utcnow() < link_tokens.expiry(link_tokens.RESET, request.created_at)
    if (
        request.pending_link != link_tokens.RESET
        or account is None
        or request.security_stamp is None
        or account.security_stamp != request.security_stamp
        or not live
    ):
        await outbox.delete_message(store, message_id=request.id)
        return None
    secret = await link_tokens.issue_link(
        store, user_id=account.id, purpose=link_tokens.RESET, email=request.recipient
    )
    body = RESET_BODY.format(link=link(base_url, RESET_PATH, secret))
    await outbox.fill_in(store, message_id=request.id, user_id=account.id, body=body)
    return Resolved(account.id, body)


async def reset_password(store: Store, *, secret: str, password_hash: str) -> int | None:
    """Use a reset link: `set_password`, and the address counts as confirmed; None when invalid."""
    used = await link_tokens.use_link(store, secret=secret, purpose=link_tokens.RESET)
    if used is None:
        return None
    await set_password(store, user_id=used.user_id, password_hash=password_hash, keep_auth_session_id=None)
    await mark_verified(store, user_id=used.user_id, email=used.email)
    return int(used.user_id)


async def set_password(
    store: Store, *, user_id: int, password_hash: str, keep_auth_session_id: int | None
) -> None:
    """Every password change or reset ends here, so nothing the old password opened outlives it."""
    # A change link kept by whoever knew the old password would hand them the account (SPEC §7).
    await users.set_password_hash(store, user_id=user_id, password_hash=password_hash)
    await users.bump_security_stamp(store, user_id=user_id)  # also what was signed in meanwhile
    await auth_sessions.end_other_auth_sessions(store, user_id=user_id, keep_id=keep_auth_session_id)
    await tokens.revoke_all_tokens(store, user_id=user_id)
    await link_tokens.void_links(store, user_id=user_id, purposes=link_tokens.OF_THE_PASSWORD)
    await notify_password_changed(store, user_id=user_id, email=await store.scalar(ACCOUNT_EMAIL, id=user_id))


async def notify_password_changed(store: Store, *, user_id: int, email: str) -> None:
    """Queue "Your password was changed" to the account's address."""
    await outbox.queue_message(
        store, user_id=user_id, recipient=email, subject=PASSWORD_CHANGED_SUBJECT, body=PASSWORD_CHANGED_BODY
    )


async def notify_sign_in_attempts(
    store: Store, *, user_id: int, email: str, wrong_codes: int, lockout_minutes: int
) -> None:
    """Queue "Someone is trying to sign in to your account": the account was just locked out of
    sign-in codes (once per lockout: the caller queues it in the transaction that locks)."""
    body = SIGN_IN_ATTEMPTS_BODY.format(count=wrong_codes, minutes=lockout_minutes)
    await outbox.queue_message(
        store, user_id=user_id, recipient=email, subject=SIGN_IN_ATTEMPTS_SUBJECT, body=body
    )


async def send_confirmation(
    store: Store, *, user_id: int, email: str, base_url: str, change: bool = False
) -> None:
    """Queue a link that confirms `email` for the account (valid 7 days); with `change`, opening it
    makes `email` the account's address."""
    purpose = link_tokens.CHANGE if change else link_tokens.CONFIRM
    secret = await link_tokens.issue_link(store, user_id=user_id, purpose=purpose, email=email)
    body = CONFIRM_BODY.format(email=email, link=link(base_url, VERIFY_PATH, secret))
    await outbox.queue_message(store, user_id=user_id, recipient=email, subject=CONFIRM_SUBJECT, body=body)


async def request_email_change(store: Store, verified: users.Verified, *, email: str, base_url: str) -> bool:
    """Issue a change link only while the checked password is current, so none outlives a password change."""
    # The row stays locked until commit; False (nothing queued) when the password changed since.
    if not await users.still_current(store, verified):
        return False
    await send_confirmation(store, user_id=verified.user_id, email=email, base_url=base_url, change=True)
    return True


async def confirm_email(store: Store, *, secret: str) -> int | None:
    """Use a confirmation link: the address it was sent to is confirmed, if it is still the
    account's. Returns the user's id, or None (nothing changed) when the link is not valid."""
    used = await link_tokens.use_link(store, secret=secret, purpose=link_tokens.CONFIRM)
    if used is None:
        used = await link_tokens.use_link(store, secret=secret, purpose=link_tokens.CHANGE)
        if used is None or not await change_email(store, user_id=used.user_id, email=used.email):
            return None
    if not await mark_verified(store, user_id=used.user_id, email=used.email):
        return None
    await link_tokens.void_links(
        store, user_id=used.user_id, purposes=(link_tokens.CONFIRM, link_tokens.CHANGE)
    )
    return int(used.user_id)


async def change_email(store: Store, *, user_id: int, email: str) -> bool:
    """Make `email` the account's address (confirmed now) and tell the old address; False when
    another account has taken `email` since the link was sent."""
    old_email = await store.scalar(ACCOUNT_EMAIL, id=user_id)
    if old_email == email:
        return True
    try:
        async with store.savepoint():
            await store.execute(
                update(User).where(User.id == user_id).values(email=email, email_verified_at=utcnow())
            )
    except IntegrityError:  # users.email is unique
        return False
    # Every other pending link of the account goes, of whatever purpose (SPEC §7).
    await link_tokens.void_links(store, user_id=user_id, purposes=link_tokens.EVERY_PURPOSE)
    await outbox.queue_message(
        store,
        user_id=user_id,
        recipient=old_email,
        subject=EMAIL_CHANGED_SUBJECT,
        body=EMAIL_CHANGED_BODY.format(email=email),
    )
    return True


async def mark_verified(store: Store, *, user_id: int, email: str) -> bool:
    """Record that the owner of the account reads mail at `email`, when that is still its address
    (the first confirmation's time is kept). False when the account has another address now."""
    account_email = await store.scalar(ACCOUNT_EMAIL, id=user_id)
    if account_email != email:
        return False
    await store.execute(
        update(User)
        .where(User.id == user_id, User.email_verified_at.is_(None))
        .values(email_verified_at=utcnow())
    )
    return True
