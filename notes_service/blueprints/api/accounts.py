"""API accounts and tokens: register, sign in for a token, list and revoke tokens, who am I."""

from __future__ import annotations

import logging
from typing import Any

from quart import Blueprint, current_app, request

from ...data import current_store
from ...http.current import current_box, current_code_lockout, current_hasher
from ...http.errors import BEARER_CHALLENGE, HTTPError
from ...http.export import export_response
from ...http.logs import event
from ...http.schemas import (
    AccountDelete,
    ExportOut,
    NoContent,
    TokenInfo,
    TokenIssued,
    TokenRequest,
    UserCreate,
    UserOut,
)
from ...http.shapes import TOKEN, USER
from ...http.throttle import limit_password_checks, over_signin_budget, too_many
from ...services import account_mail, tokens, two_factor, users
from ...services.errors import Conflict
from ...services.users import CurrentUser
from .responses import no_content
from .routes import api_route

blueprint = Blueprint("api_accounts", __name__, url_prefix="/api")
log = logging.getLogger("notes_service.http.auth")
INVALID_CREDENTIALS = "Invalid credentials"
OTP_REQUIRED = "OTP required"
DEFAULT_TOKEN_NAME = "API token"
TOKEN_TYPE = "Bearer"


@api_route(
    blueprint.post("/token"),
    token=None,
    throttle="api-token",
    account_field="email",
    code_field="otp",
    tag="tokens",
    body=TokenRequest,
    responses=[(TokenIssued, 200)],
    errors=(400, 401, 413, 422, 429),
)
async def issue_token(data: TokenRequest) -> Any:
    """Exchange an email and password for a new bearer token (other tokens stay valid).

    An account with two-factor sign-in also needs `otp`: a code of its authenticator app (each time
    step is accepted once) or an unused recovery code (used up). After 5 wrong codes in a row (here
    and at /login/2fa together) the account takes no code for 15 minutes: 429.
    When the account's sign-in budget is spent (someone else may be spending it), only the password
    with a valid code gets a token; anything else is the 429 of the budget.
    """
    store = current_store()
    hasher = current_hasher()
    verified = await users.check_password(store, hasher, email=data.email, password=data.password)
    over_budget = over_signin_budget()
    if over_budget is not None and (verified is None or not verified.is_active or not verified.two_factor):
        raise too_many(over_budget)  # past the budget, a code is the only way in: no code, no way
    issued = None
    checked = two_factor.SignInCode(accepted=True)
    if verified is not None and verified.is_active:
        if verified.two_factor and data.otp is None:
            event(log, "token_refused", user_id=verified.user_id, reason="otp_required")
            raise HTTPError(401, OTP_REQUIRED)
        async with store.write():
            # A change of the password, 2FA or the account's state since the check wins: no token.
            if not await users.still_current(store, verified):
                checked = two_factor.SignInCode(accepted=False)
            elif verified.two_factor:  # counted per account with /login/2fa's codes (SPEC §8)
                checked = await two_factor.check_sign_in_code(
                    store,
                    current_box(),
                    user_id=verified.user_id,
                    code=data.otp or "",
                    lockout=current_code_lockout(),
                )
            if checked.accepted:
                issued = await tokens.issue_token(
                    store,
                    user_id=verified.user_id,
                    name=data.name or DEFAULT_TOKEN_NAME,
                    expires_in_days=data.expires_in_days,
                    security_stamp=verified.security_stamp,
                )
    if verified is not None and checked.retry_after is not None:  # too many wrong codes: none taken now
        event(log, "throttled", scope="two-factor-codes", user_id=verified.user_id)
        raise too_many(checked.retry_after)
    if verified is None or issued is None:
        event(log, "token_refused", client=request.remote_addr)
        if over_budget is not None:
            raise too_many(over_budget)
        raise HTTPError(401, INVALID_CREDENTIALS)
    token, secret = issued
    event(log, "token_issued", user_id=verified.user_id, token_id=token.id)
    return TokenIssued(token=secret, token_type=TOKEN_TYPE, expires_at=token.expires_at).model_dump()


@api_route(
    blueprint.delete("/token"),
    tag="tokens",
    responses=[(NoContent, 204)],
    errors=(401,),
)
async def revoke_current_token(user: CurrentUser) -> Any:
    """Revoke the token that authenticated this request."""
    assert user.token_id is not None  # token_required sets it
    store = current_store()
    async with store.write():
        await tokens.revoke_token(store, user_id=user.id, token_id=user.token_id)
    event(log, "token_revoked", user_id=user.id, token_id=user.token_id)
    return no_content()


@api_route(
    blueprint.get("/tokens"),
    tag="tokens",
    responses=[(list[TokenInfo], 200)],
    errors=(401,),
)
async def list_tokens(user: CurrentUser) -> Any:
    """The caller's tokens, newest first; secrets and digests are never shown."""
    return TOKEN.all(await tokens.list_tokens(current_store(), user_id=user.id))


@api_route(
    blueprint.delete("/tokens/<id:token_id>"),
    tag="tokens",
    responses=[(NoContent, 204)],
    errors=(401, 404),
)
async def revoke_token(user: CurrentUser, token_id: int) -> Any:
    """Revoke one of the caller's tokens (404 when it is not theirs)."""
    store = current_store()
    async with store.write():
        await tokens.revoke_token(store, user_id=user.id, token_id=token_id)  # someone else's: 404
    event(log, "token_revoked", user_id=user.id, token_id=token_id)
    return no_content()


@api_route(
    blueprint.post("/users"),
    token=None,
    throttle="api-users",
    tag="users",
    body=UserCreate,
    responses=[(UserOut, 201)],
    errors=(400, 409, 413, 422, 429),
)
async def register(data: UserCreate) -> Any:
    """Create an account; a taken username or email is a 409."""
    store = current_store()
    password_hash = await current_hasher().hash(data.password)
    try:
        async with store.write():
            verified = await users.create_user(
                store, username=data.username, email=str(data.email), password_hash=password_hash
            )
            await account_mail.send_confirmation(
                store,
                user_id=verified.user_id,
                email=str(data.email).lower(),
                base_url=current_app.config["NOTES"].link_base_url,
            )
    except Conflict as conflict:
        message = next(iter(conflict.fields.values()))
        raise HTTPError(409, message, details=conflict.fields) from conflict
    event(log, "registered", user_id=verified.user_id)
    created = await users.get_user(store, user_id=verified.user_id)
    assert created is not None  # created just now, in this request
    return USER.one(created.public), 201


@api_route(
    blueprint.get("/me"),
    tag="users",
    responses=[(UserOut, 200)],
    errors=(401,),
)
async def me(user: CurrentUser) -> Any:
    """The account the token belongs to."""
    return USER.one(user.public)


@api_route(
    blueprint.delete("/me"),
    tag="users",
    body=AccountDelete,
    responses=[(NoContent, 204)],
    errors=(400, 401, 413, 422, 429),
)
async def delete_me(user: CurrentUser, data: AccountDelete) -> Any:
    """Delete the account with every note, session, token and unsent message; needs the password."""
    store = current_store()
    await limit_password_checks(user.id)
    verified = await users.check_password(store, current_hasher(), user_id=user.id, password=data.password)
    deleted = False
    if verified is not None:
        async with store.write():
            if await users.still_current(store, verified):
                deleted = await users.delete_user(store, user_id=user.id)
    if not deleted:  # a 401 always says how to authenticate (RFC 9110), whatever was wrong
        raise HTTPError(401, INVALID_CREDENTIALS, headers=BEARER_CHALLENGE)
    event(log, "account_deleted", user_id=user.id)
    return no_content()


@api_route(
    blueprint.get("/export"),
    tag="users",
    responses=[(ExportOut, 200)],
    errors=(401,),
)
async def export(user: CurrentUser) -> Any:
    """The account and every note of it, oldest first, streamed (constant memory however many)."""
    event(log, "account_exported", user_id=user.id)
    return export_response(user, attachment=False)
