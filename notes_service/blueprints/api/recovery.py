"""API password reset and email confirmation (SPEC §7): the browser's flows, as JSON."""

from __future__ import annotations

import logging
from typing import Any

from quart import Blueprint, request

from ...data import current_store
from ...http.current import current_hasher
from ...http.errors import HTTPError
from ...http.logs import event
from ...http.schemas import Accepted, EmailVerify, NoContent, PasswordForgot, PasswordReset
from ...http.throttle import limit_mail
from ...services import account_mail, link_tokens
from .responses import no_content
from .routes import api_route

blueprint = Blueprint("api_recovery", __name__, url_prefix="/api")
log = logging.getLogger("notes_service.http.auth")
INVALID_LINK_TOKEN = "Invalid or expired token"


@api_route(
    blueprint.post("/password/forgot"),
    token=None,
    throttle="api-password-forgot",
    tag="users",
    body=PasswordForgot,
    responses=[(Accepted, 202)],
    errors=(400, 413, 422, 429),
)
async def forgot_password(data: PasswordForgot) -> Any:
    """Mail a reset link to the account with this email, if there is one; the answer is always 202."""
    await limit_mail(data.email)
    store = current_store()
    async with store.write():
        await account_mail.request_password_reset(store, email=data.email)
    event(log, "password_reset_requested", client=request.remote_addr)
    return {}, 202


@api_route(
    blueprint.post("/password/reset"),
    token=None,
    tag="users",
    body=PasswordReset,
    responses=[(NoContent, 204)],
    errors=(400, 413, 422),
)
async def reset_password(data: PasswordReset) -> Any:
    """Set a new password with a reset link's token: every session and API token of the account ends."""
    store = current_store()
    # Checked before bcrypt: a request without a valid token costs no hash.
    if await link_tokens.find_link(store, secret=data.token, purpose=link_tokens.RESET) is None:
        raise HTTPError(400, INVALID_LINK_TOKEN)
    password_hash = await current_hasher().hash(data.new_password)
    async with store.write():
        user_id = await account_mail.reset_password(store, secret=data.token, password_hash=password_hash)
    if user_id is None:
        raise HTTPError(400, INVALID_LINK_TOKEN)
    event(log, "password_reset", user_id=user_id)
    return no_content()


@api_route(
    blueprint.post("/email/verify"),
    token=None,
    tag="users",
    body=EmailVerify,
    responses=[(NoContent, 204)],
    errors=(400, 413, 422),
)
async def verify_email(data: EmailVerify) -> Any:
    """Confirm the address a confirmation link's token was sent to."""
    store = current_store()
    async with store.write():
        user_id = await account_mail.confirm_email(store, secret=data.token)
    if user_id is None:
        raise HTTPError(400, INVALID_LINK_TOKEN)
    event(log, "email_confirmed", user_id=user_id)
    return no_content()
