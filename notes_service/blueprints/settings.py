"""Account settings: password, active auth sessions and API tokens."""

from __future__ import annotations

import logging
from typing import Any

from quart import Blueprint, current_app, flash, redirect, render_template, url_for

from ..data import current_store
from ..http.auth import login_required, sign_out
from ..http.current import current_hasher, current_lifetime
from ..http.export import export_response
from ..http.forms import ChangeEmailForm, DeleteAccountForm, PasswordChangeForm, TokenForm, text
from ..http.logs import event
from ..http.throttle import limit_mail, limit_password_checks, throttled
from ..services import account_mail, auth_sessions, tokens, users
from ..services.users import CurrentUser

blueprint = Blueprint("settings", __name__, url_prefix="/settings")
log = logging.getLogger("notes_service.http.auth")

PASSWORD_CHANGED = "Your password has been changed. Other sessions and all API tokens were ended."
WRONG_PASSWORD = "Current password is incorrect."
OTHERS_ENDED = "Other sessions have been logged out."
TOKEN_REVOKED = "Token revoked."
CONFIRMATION_SENT = "We have sent a confirmation link to {email}."
ACCOUNT_DELETED = "Your account has been deleted."
CHANGE_SENT = "We have sent a confirmation link to {email}. Your email address changes when you open it."


async def render_settings(
    user: CurrentUser,
    *,
    password_form: PasswordChangeForm | None = None,
    token_form: TokenForm | None = None,
    delete_form: DeleteAccountForm | None = None,
    email_form: ChangeEmailForm | None = None,
    new_secret: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The settings page, with whichever form was just submitted shown as it was."""
    store = current_store()
    page = await render_template(
        "settings/index.html",
        password_form=password_form or PasswordChangeForm(),
        token_form=token_form or TokenForm(),
        delete_form=delete_form or DeleteAccountForm(),
        email_form=email_form or ChangeEmailForm(),
        auth_sessions=await auth_sessions.list_auth_sessions(
            store, user_id=user.id, lifetime=current_lifetime()
        ),
        current_auth_session_id=user.auth_session_id,
        tokens=await tokens.list_tokens(store, user_id=user.id),
        new_secret=new_secret,
        account=user,
    )
    return page, status


@blueprint.get("")
@login_required
async def index(user: CurrentUser) -> Any:
    """Password, auth sessions and tokens on one page."""
    return await render_settings(user)


@blueprint.post("/password")
@login_required
async def change_password(user: CurrentUser) -> Any:
    """Change the password; every other auth session and every API token of the user ends."""
    form = await PasswordChangeForm.from_request()
    if not form.validate():
        return await render_settings(user, password_form=form, status=422)
    store = current_store()
    hasher = current_hasher()
    await limit_password_checks(user.id)
    verified = await users.check_password(
        store, hasher, user_id=user.id, password=text(form.current_password)
    )
    changed = False
    if verified is not None:
        new_hash = await hasher.hash(text(form.new_password))
        async with store.write():
            # A change that raced this one since the check makes this password wrong.
            if changed := await users.still_current(store, verified):
                await account_mail.set_password(
                    store, user_id=user.id, password_hash=new_hash, keep_auth_session_id=user.auth_session_id
                )
    if not changed:
        form.current_password.errors = [WRONG_PASSWORD]
        return await render_settings(user, password_form=form, status=422)
    event(log, "password_changed", user_id=user.id)
    await flash(PASSWORD_CHANGED, "success")
    return redirect(url_for("settings.index"))


@blueprint.post("/email/verify")
@throttled("email-verify")
@login_required
async def resend_confirmation(user: CurrentUser) -> Any:
    """Mail a new link confirming the account's address."""
    await limit_mail(user.email)
    store = current_store()
    async with store.write():
        await account_mail.send_confirmation(
            store, user_id=user.id, email=user.email, base_url=current_app.config["NOTES"].link_base_url
        )
    event(log, "confirmation_requested", user_id=user.id)
    await flash(CONFIRMATION_SENT.format(email=user.email), "info")
    return redirect(url_for("settings.index"))


@blueprint.post("/email")
@login_required
async def change_email(user: CurrentUser) -> Any:
    """Mail a link to the new address; the account's email changes only when it is opened."""
    form = await ChangeEmailForm.from_request()
    if not form.validate():
        return await render_settings(user, email_form=form, status=422)
    new_email = text(form.email).lower()
    store = current_store()
    await limit_password_checks(user.id)
    verified = await users.check_password(
        store, current_hasher(), user_id=user.id, password=text(form.current_password)
    )
    if verified is None:
        form.current_password.errors = [WRONG_PASSWORD]
        return await render_settings(user, email_form=form, status=422)
    if new_email != user.email and await users.email_taken(store, email=new_email):
        form.email.errors = [users.EMAIL_TAKEN]
        return await render_settings(user, email_form=form, status=422)
    await limit_mail(new_email)
    async with store.write():
        issued = await account_mail.request_email_change(
            store, verified, email=new_email, base_url=current_app.config["NOTES"].link_base_url
        )
    if not issued:  # the password changed since the check: it is not the current password any more
        form.current_password.errors = [WRONG_PASSWORD]
        return await render_settings(user, email_form=form, status=422)
    event(log, "email_change_requested", user_id=user.id)
    await flash(CHANGE_SENT.format(email=new_email), "info")
    return redirect(url_for("settings.index"))


@blueprint.get("/export")
@login_required
async def export(user: CurrentUser) -> Any:
    """Download every note of the account as JSON (`notes-export.json`), streamed."""
    event(log, "account_exported", user_id=user.id)
    return export_response(user, attachment=True)


@blueprint.post("/delete")
@login_required
async def delete_account(user: CurrentUser) -> Any:
    """Delete the account with every note, session, token and unsent message; needs the password."""
    form = await DeleteAccountForm.from_request()
    if not form.validate():
        return await render_settings(user, delete_form=form, status=422)
    store = current_store()
    await limit_password_checks(user.id)
    verified = await users.check_password(
        store, current_hasher(), user_id=user.id, password=text(form.current_password)
    )
    deleted = False
    if verified is not None:
        async with store.write():
            if await users.still_current(store, verified):
                deleted = await users.delete_user(store, user_id=user.id)
    if not deleted:
        form.current_password.errors = [WRONG_PASSWORD]
        return await render_settings(user, delete_form=form, status=422)
    await sign_out(store)
    event(log, "account_deleted", user_id=user.id)
    await flash(ACCOUNT_DELETED, "info")
    return redirect(url_for("main.index"))


@blueprint.post("/sessions/revoke-others")
@login_required
async def revoke_other_sessions(user: CurrentUser) -> Any:
    """Log out every other browser signed in to this account."""
    store = current_store()
    async with store.write():
        await auth_sessions.end_other_auth_sessions(store, user_id=user.id, keep_id=user.auth_session_id)
    await flash(OTHERS_ENDED, "info")
    return redirect(url_for("settings.index"))


@blueprint.post("/tokens")
@login_required
async def create_token(user: CurrentUser) -> Any:
    """Create a named API token; its secret is shown on this response only."""
    form = await TokenForm.from_request()
    if not form.validate():
        return await render_settings(user, token_form=form, status=422)
    store = current_store()
    async with store.write():
        token, secret = await tokens.issue_token(
            store,
            user_id=user.id,
            name=text(form.name),
            expires_in_days=form.expires_in_days.data,
            security_stamp=user.security_stamp,  # this session's: none if the session has just ended
        )
    event(log, "token_issued", user_id=user.id, token_id=token.id)
    return await render_settings(user, new_secret=secret)


@blueprint.post("/tokens/<id:token_id>/revoke")
@login_required
async def revoke_token(user: CurrentUser, token_id: int) -> Any:
    """Revoke one of the user's tokens; someone else's is a 404."""
    store = current_store()
    async with store.write():
        await tokens.revoke_token(store, user_id=user.id, token_id=token_id)  # someone else's: 404
    event(log, "token_revoked", user_id=user.id, token_id=token_id)
    await flash(TOKEN_REVOKED, "info")
    return redirect(url_for("settings.index"))
