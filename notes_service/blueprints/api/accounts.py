"""API accounts and tokens: register, sign in for a token, list and revoke tokens, who am I."""

from __future__ import annotations

import logging
from typing import Any

from quart import Blueprint, current_app, request
from quart_schema import document_response, tag

from ...auth import token_required
from ...db import get_session
from ...errors import APIError
from ...logs import event
from ...schemas import TokenInfo, TokenIssued, TokenRequest, UserCreate, UserOut
from ...serializers import token_json, user_json
from ...services import tokens, users
from ...services.tokens import Caller
from ...throttle import throttled
from .responses import bearer_required, documented_no_content, errors, no_content
from .validation import json_body

blueprint = Blueprint("api_accounts", __name__, url_prefix="/api")
log = logging.getLogger("notes_service.auth")
INVALID_CREDENTIALS = "Invalid credentials"
DEFAULT_TOKEN_NAME = "API token"


@blueprint.post("/token")
@throttled("api-token", account_field="email")
@tag(["tokens"])
@json_body(TokenRequest)
@document_response(TokenIssued)
@errors(400, 401, 413, 422, 429)
async def issue_token(data: TokenRequest) -> Any:
    """Exchange an email and password for a new bearer token (other tokens stay valid)."""
    session = get_session()
    user = await users.authenticate(
        session, current_app.extensions["hasher"], email=data.email, password=data.password
    )
    if user is None or not user.is_active:
        event(log, "token_refused", client=request.remote_addr)
        raise APIError(401, INVALID_CREDENTIALS)
    token, secret = await tokens.issue_token(
        session,
        user_id=user.id,
        name=data.name or DEFAULT_TOKEN_NAME,
        expires_in_days=data.expires_in_days,
    )
    await session.commit()
    event(log, "token_issued", user_id=user.id, token_id=token.id)
    return {"token": secret, "token_type": "Bearer", "expires_at": token.expires_at}


@blueprint.delete("/token")
@token_required
@tag(["tokens"])
@bearer_required
@documented_no_content
@errors(401)
async def revoke_current_token(caller: Caller) -> Any:
    """Revoke the token that authenticated this request."""
    session = get_session()
    await tokens.revoke_token(session, user_id=caller.user.id, token_id=caller.token_id)
    await session.commit()
    event(log, "token_revoked", user_id=caller.user.id, token_id=caller.token_id)
    return no_content()


@blueprint.get("/tokens")
@token_required
@tag(["tokens"])
@bearer_required
@document_response(list[TokenInfo])
@errors(401)
async def list_tokens(caller: Caller) -> Any:
    """The caller's tokens, newest first; secrets and digests are never shown."""
    found = await tokens.list_tokens(get_session(), user_id=caller.user.id)
    return [token_json(token) for token in found]


@blueprint.delete("/tokens/<id:token_id>")
@token_required
@tag(["tokens"])
@bearer_required
@documented_no_content
@errors(401, 404)
async def revoke_token(caller: Caller, token_id: int) -> Any:
    """Revoke one of the caller's tokens (404 when it is not theirs)."""
    session = get_session()
    if not await tokens.revoke_token(session, user_id=caller.user.id, token_id=token_id):
        raise APIError(404, "Not found")
    await session.commit()
    event(log, "token_revoked", user_id=caller.user.id, token_id=token_id)
    return no_content()


@blueprint.post("/users")
@throttled("api-users")
@tag(["users"])
@json_body(UserCreate)
@document_response(UserOut, 201)
@errors(400, 409, 413, 422, 429)
async def register(data: UserCreate) -> Any:
    """Create an account; a taken username or email is a 409."""
    session = get_session()
    try:
        user = await users.register_user(
            session,
            current_app.extensions["hasher"],
            username=data.username,
            email=str(data.email),
            password=data.password,
        )
    except users.Conflict as conflict:
        message = next(iter(conflict.fields.values()))
        raise APIError(409, message, details=conflict.fields) from conflict
    await session.commit()
    event(log, "registered", user_id=user.id)
    return user_json(user), 201


@blueprint.get("/me")
@token_required
@tag(["users"])
@bearer_required
@document_response(UserOut)
@errors(401)
async def me(caller: Caller) -> Any:
    """The account the token belongs to."""
    return user_json(caller.user)
