"""Account settings: password, active sessions and API tokens."""

from __future__ import annotations

import logging
from typing import Any

from quart import Blueprint, current_app, flash, redirect, render_template, url_for

from ..auth import login_required
from ..db import get_session
from ..errors import APIError
from ..forms import PasswordChangeForm, TokenForm
from ..logs import event
from ..services import sessions, tokens, users
from ..services.sessions import SignedIn
from ..throttle import limit_password_checks

blueprint = Blueprint("settings", __name__, url_prefix="/settings")
log = logging.getLogger("notes_service.auth")

PASSWORD_CHANGED = "Your password has been changed. Other sessions and all API tokens were ended."
WRONG_PASSWORD = "Current password is incorrect."
OTHERS_ENDED = "Other sessions have been logged out."
TOKEN_REVOKED = "Token revoked."


async def render_settings(
    user: SignedIn,
    *,
    password_form: PasswordChangeForm | None = None,
    token_form: TokenForm | None = None,
    new_secret: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The settings page, with whichever form was just submitted shown as it was."""
    session = get_session()
    page = await render_template(
        "settings/index.html",
        password_form=password_form or PasswordChangeForm(),
        token_form=token_form or TokenForm(),
        sessions=await sessions.list_sessions(session, user_id=user.id),
        current_session_id=user.session_id,
        tokens=await tokens.list_tokens(session, user_id=user.id),
        new_secret=new_secret,
    )
    return page, status


@blueprint.get("")
@login_required
async def index(user: SignedIn) -> Any:
    """Password, sessions and tokens on one page."""
    return await render_settings(user)


@blueprint.post("/password")
@login_required
async def change_password(user: SignedIn) -> Any:
    """Change the password; every other session and every API token of the user ends."""
    form = await PasswordChangeForm.from_request()
    if not form.validate():
        return await render_settings(user, password_form=form, status=422)
    session = get_session()
    hasher = current_app.extensions["hasher"]
    await limit_password_checks(user.id)
    ok, _ = await hasher.verify(form.current_password.data, user.password_hash)
    if not ok:
        form.current_password.errors = [WRONG_PASSWORD]
        return await render_settings(user, password_form=form, status=422)
    await users.set_password(session, hasher, user_id=user.id, password=form.new_password.data)
    await sessions.end_other_sessions(session, user_id=user.id, keep_id=user.session_id)
    await tokens.revoke_all_tokens(session, user_id=user.id)
    await session.commit()
    event(log, "password_changed", user_id=user.id)
    await flash(PASSWORD_CHANGED, "success")
    return redirect(url_for("settings.index"))


@blueprint.post("/sessions/revoke-others")
@login_required
async def revoke_other_sessions(user: SignedIn) -> Any:
    """Log out every other browser signed in to this account."""
    session = get_session()
    await sessions.end_other_sessions(session, user_id=user.id, keep_id=user.session_id)
    await session.commit()
    await flash(OTHERS_ENDED, "info")
    return redirect(url_for("settings.index"))


@blueprint.post("/tokens")
@login_required
async def create_token(user: SignedIn) -> Any:
    """Create a named API token; its secret is shown on this response only."""
    form = await TokenForm.from_request()
    if not form.validate():
        return await render_settings(user, token_form=form, status=422)
    session = get_session()
    token, secret = await tokens.issue_token(
        session, user_id=user.id, name=form.name.data, expires_in_days=form.expires_in_days.data
    )
    await session.commit()
    event(log, "token_issued", user_id=user.id, token_id=token.id)
    return await render_settings(user, new_secret=secret)


@blueprint.post("/tokens/<id:token_id>/revoke")
@login_required
async def revoke_token(user: SignedIn, token_id: int) -> Any:
    """Revoke one of the user's tokens; someone else's is a 404."""
    session = get_session()
    if not await tokens.revoke_token(session, user_id=user.id, token_id=token_id):
        raise APIError(404, "Not found")
    await session.commit()
    event(log, "token_revoked", user_id=user.id, token_id=token_id)
    await flash(TOKEN_REVOKED, "info")
    return redirect(url_for("settings.index"))
