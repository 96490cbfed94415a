"""Getting back into an account, and confirming its address: forgot/reset password, verify email.

Every emailed link is used by the routes here; building and checking links lives in
`services/link_tokens.py` and `services/account_mail.py`.
"""

from __future__ import annotations

import logging
from typing import Any

from quart import Blueprint, flash, redirect, render_template, request, url_for

from ..data import current_store
from ..http.current import current_hasher
from ..http.forms import ForgotPasswordForm, ResetPasswordForm, form_status, text
from ..http.logs import event
from ..http.throttle import limit_mail, throttled
from ..rules import LINK_TOKEN_MAX
from ..services import account_mail, link_tokens

blueprint = Blueprint("recovery", __name__)
log = logging.getLogger("notes_service.http.auth")

RESET_LINK_SENT = "If an account exists for that email, we have sent a link to reset the password."
RESET_LINK_INVALID = "This password reset link is invalid or has expired."
PASSWORD_RESET = "Your password has been reset. You can now log in."
EMAIL_CONFIRMED = "Your email address has been confirmed."
CONFIRM_LINK_INVALID = "This confirmation link is invalid or has expired."


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@throttled("password-forgot")
async def forgot_password() -> Any:
    """Ask for a reset link; the answer is the same whether or not the account exists."""
    form = await ForgotPasswordForm.from_request()
    if request.method == "POST" and form.validate():
        await limit_mail(text(form.email))
        store = current_store()
        async with store.write():
            await account_mail.request_password_reset(store, email=text(form.email))
        event(log, "password_reset_requested", client=request.remote_addr)
        await flash(RESET_LINK_SENT, "info")
        return redirect(url_for("account.login"))
    return await render_template("auth/forgot.html", form=form), form_status(form)


@blueprint.get("/password/reset")
async def reset_password_form() -> Any:
    """The new-password form for a valid link (which a GET never uses up)."""
    token = request.args.get("token", "")
    if not await _valid_reset_link(token):
        return await _invalid_link(RESET_LINK_INVALID, forgot_link=True)
    form = ResetPasswordForm(data={"token": token})
    return await render_template("auth/reset.html", form=form)


@blueprint.post("/password/reset")
async def reset_password() -> Any:
    """Set the new password: every session and API token of the account ends, every other reset
    link and every pending email-change link is void, the address counts as confirmed, and a
    notice is mailed."""
    form = await ResetPasswordForm.from_request()
    token = text(form.token)
    # Checked before the form and bcrypt: a request without a valid link costs no hash.
    if not await _valid_reset_link(token):
        return await _invalid_link(RESET_LINK_INVALID, forgot_link=True)
    if not form.validate():
        return await render_template("auth/reset.html", form=form), form_status(form)
    password_hash = await current_hasher().hash(text(form.new_password))
    store = current_store()
    async with store.write():
        user_id = await account_mail.reset_password(store, secret=token, password_hash=password_hash)
    if user_id is None:  # used by another request since the check
        return await _invalid_link(RESET_LINK_INVALID, forgot_link=True)
    event(log, "password_reset", user_id=user_id)
    await flash(PASSWORD_RESET, "success")
    return redirect(url_for("account.login"))


@blueprint.get("/email/verify")
async def verify_email() -> Any:
    """Confirm the address a confirmation link was sent to."""
    token = request.args.get("token", "")
    user_id = None
    if 0 < len(token) <= LINK_TOKEN_MAX:
        store = current_store()
        async with store.write():
            user_id = await account_mail.confirm_email(store, secret=token)
    if user_id is None:
        return await _invalid_link(CONFIRM_LINK_INVALID)
    event(log, "email_confirmed", user_id=user_id)
    await flash(EMAIL_CONFIRMED, "success")
    return redirect(url_for("main.index"))


async def _valid_reset_link(token: str) -> bool:
    if not 0 < len(token) <= LINK_TOKEN_MAX:
        return False
    found = await link_tokens.find_link(current_store(), secret=token, purpose=link_tokens.RESET)
    return found is not None


async def _invalid_link(message: str, *, forgot_link: bool = False) -> tuple[str, int]:
    page = await render_template("auth/link_invalid.html", message=message, forgot_link=forgot_link)
    return page, 400
