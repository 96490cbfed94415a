"""Signing up, in and out in the browser, with the second step for accounts with two-factor sign-in.

For such an account a correct password creates no session: it starts a pending sign-in (a row of
`pending_sign_ins`, named by a secret in this browser's signed session cookie) that only
`/login/2fa` accepts, for 5 minutes and 5 wrong codes, spending the account's sign-in budget.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from quart import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from ..data import Store, current_store
from ..http.auth import DEACTIVATED, current_user, sign_in, sign_out
from ..http.current import current_box, current_code_lockout, current_hasher
from ..http.devices import remember_device
from ..http.forms import CodeForm, LoginForm, RegisterForm, form_status, text
from ..http.logs import event
from ..http.throttle import limit_signin, over_signin_budget, throttled, too_many
from ..services import account_mail, two_factor, users
from ..services.errors import Conflict
from ..services.security import digest, is_safe_next
from ..services.users import Verified
from .settings import CONFIRMATION_SENT

blueprint = Blueprint("account", __name__)
log = logging.getLogger("notes_service.http.auth")

ACCOUNT_CREATED = "Account created successfully."
LOGGED_IN = "Logged in successfully."
LOGGED_OUT = "You have been logged out."
INVALID_LOGIN = "Invalid email or password."
INVALID_CODE = "Invalid code."
SIGN_IN_ENDED = "Your sign-in has ended. Please log in again."
PENDING_KEY = "pending_sign_in"  # in Quart's session: the pending sign-in's secret
MAX_NEXT_LENGTH = 2048


@blueprint.route("/register", methods=["GET", "POST"])
@throttled("register")
async def register() -> Any:
    """Create an account and sign in to it."""
    if current_user() is not None:
        return redirect(url_for("main.index"))
    form = await RegisterForm.from_request()
    if request.method == "POST" and form.validate():
        store = current_store()
        password_hash = await current_hasher().hash(text(form.password))
        try:
            async with store.write():
                verified = await users.create_user(
                    store, username=text(form.username), email=text(form.email), password_hash=password_hash
                )
                await account_mail.send_confirmation(
                    store,
                    user_id=verified.user_id,
                    email=text(form.email).lower(),
                    base_url=current_app.config["NOTES"].link_base_url,
                )
                await sign_in(store, verified, remember=False)
        except Conflict as conflict:
            for field, message in conflict.fields.items():
                form[field].errors = [message]
        else:
            remember_device(text(form.email))
            event(log, "registered", user_id=verified.user_id)
            await flash(ACCOUNT_CREATED, "success")
            # Say where the confirmation mail went (issue 23 item 9), in §7's words for a resent link.
            await flash(CONFIRMATION_SENT.format(email=text(form.email).lower()), "info")
            return redirect(url_for("main.index"))
    return await render_template("auth/register.html", form=form), form_status(form)


@blueprint.route("/login", methods=["GET", "POST"])
@throttled("login", account_field="email")
async def login() -> Any:
    """Sign in with email and password; `next` is followed only when it is a local path."""
    next_url = request.args.get("next") or (await request.form).get("next")
    if current_user() is not None:
        return redirect(_safe_next(next_url))
    form = await LoginForm.from_request()
    if request.method == "POST" and form.validate():
        store = current_store()
        hasher = current_hasher()
        verified = await users.check_password(
            store, hasher, email=text(form.email), password=text(form.password)
        )
        remember = bool(form.remember.data)
        if verified is not None and not verified.is_active:
            event(log, "login_refused", user_id=verified.user_id, reason="inactive")
            await flash(DEACTIVATED, "danger")
        elif verified is not None and verified.two_factor:
            if await _start_pending(store, verified, remember=remember, next_url=next_url):
                event(log, "login_password_ok", user_id=verified.user_id, second_factor="pending")
                return redirect(url_for("account.login_2fa"))
            await flash(INVALID_LOGIN, "danger")
        elif verified is not None and await sign_in(store, verified, remember=remember):
            remember_device(text(form.email))
            event(log, "login_ok", user_id=verified.user_id, remember=remember)
            await flash(LOGGED_IN, "success")
            return redirect(_safe_next(next_url))
        else:
            event(log, "login_failed", client=request.remote_addr)
            await flash(INVALID_LOGIN, "danger")
    page = await render_template("auth/login.html", form=form, next_url=next_url)
    return page, form_status(form)


async def _start_pending(store: Store, verified: Verified, *, remember: bool, next_url: str | None) -> bool:
    """Record the correct password and name it in this browser's cookie: no session yet.
    False when the password, the account's security or two-factor state changed since it was checked."""
    lifetime = timedelta(seconds=current_app.config["NOTES"].two_factor_pending_seconds)
    async with store.write():
        if not await users.still_current(store, verified):
            return False
        if isinstance(earlier := session.get(PENDING_KEY), str):
            await two_factor.end_pending_by_secret(store, secret=earlier)
        secret = await two_factor.start_pending(
            store,
            user_id=verified.user_id,
            password_hash=verified.current_hash,
            security_stamp=verified.security_stamp,
            remember=remember,
            next_url=next_url if is_safe_next(next_url) and len(next_url) <= MAX_NEXT_LENGTH else None,
            lifetime=lifetime,
        )
    session[PENDING_KEY] = secret
    return True


@blueprint.route("/login/2fa", methods=["GET", "POST"])
@throttled("login-2fa")
async def login_2fa() -> Any:
    """The second step: a TOTP (each time step once) or an unused recovery code creates the session."""
    if current_user() is not None:
        return redirect(url_for("main.index"))
    store = current_store()
    secret = session.get(PENDING_KEY)
    pending = await two_factor.find_pending(store, secret=secret) if isinstance(secret, str) else None
    if pending is None:
        if session.pop(PENDING_KEY, None) is not None:
            await flash(SIGN_IN_ENDED, "warning")
        return redirect(url_for("account.login"))
    form = await CodeForm.from_request()
    if request.method == "POST":
        # The account's one budget, shared with /login and /api/token; past it only a valid code.
        await limit_signin(pending.email, with_code=True)
        checked = await _finish(store, pending, text(form.code) if form.validate() else "")
        if checked.retry_after is not None:  # too many wrong codes for the account: none is taken now
            event(log, "throttled", scope="two-factor-codes", user_id=pending.user_id)
            raise too_many(checked.retry_after)
        if not checked.accepted and (over_budget := over_signin_budget()) is not None:
            raise too_many(over_budget)
        if checked.accepted:
            remember_device(pending.email)
            session.pop(PENDING_KEY, None)
            event(log, "login_ok", user_id=pending.user_id, remember=pending.remember, second_factor="ok")
            await flash(LOGGED_IN, "success")
            return redirect(_safe_next(pending.next_url))
        event(log, "login_2fa_failed", user_id=pending.user_id, client=request.remote_addr)
        await flash(INVALID_CODE, "danger")
        form.code.data = ""  # a fresh field for the next try
        if await two_factor.find_pending(store, secret=str(secret)) is None:  # that was the last try
            session.pop(PENDING_KEY, None)
            await flash(SIGN_IN_ENDED, "warning")
            return redirect(url_for("account.login"))
    return await render_template("auth/login_2fa.html", form=form)


async def _finish(store: Store, pending: two_factor.Pending, code: str) -> two_factor.SignInCode:
    """In one transaction: check the code (using it up) and sign in (accepted), or count a wrong code
    (for the account and the pending sign-in); nothing while the account takes no code."""
    async with store.write():
        row = await store.row(users.CREDENTIALS_FOR_UPDATE, id=pending.user_id)
        # A password changed, 2FA turned off or the account (de)activated since the password step
        # (any change of its security stamp) voids the sign-in.
        if (
            row is None
            or digest(row.password_hash) != pending.password_digest
            or row.security_stamp != pending.security_stamp
            or not row.is_active
            or not row.two_factor
        ):
            await two_factor.end_pending(store, pending_id=pending.id)
            return two_factor.SignInCode(False)
        checked = await two_factor.check_sign_in_code(
            store, current_box(), user_id=pending.user_id, code=code, lockout=current_code_lockout()
        )
        if checked.retry_after is not None:
            return checked
        if checked.accepted and await two_factor.end_pending(store, pending_id=pending.id):
            # (only one request finishes a pending sign-in)
            verified = Verified(row.id, row.is_active, row.password_hash, row.security_stamp, two_factor=True)
            return two_factor.SignInCode(await sign_in(store, verified, remember=pending.remember))
        await two_factor.count_wrong_code(store, pending_id=pending.id)
    return two_factor.SignInCode(False)


@blueprint.get("/logout")
async def logout_page() -> str:
    """A page with a logout button: signing out changes state, so it is a POST."""
    return await render_template("auth/logout.html")


@blueprint.post("/logout")
async def logout() -> Any:
    """End this browser's auth session on the server."""
    await sign_out(current_store())
    await flash(LOGGED_OUT, "info")
    return redirect(url_for("account.login"))


def _safe_next(target: str | None) -> str:
    return target if is_safe_next(target) else url_for("main.index")
