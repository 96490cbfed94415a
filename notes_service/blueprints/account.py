"""Signing up, in and out in the browser."""

from __future__ import annotations

import logging
from typing import Any

from quart import Blueprint, current_app, flash, redirect, render_template, request, url_for

from ..auth import DEACTIVATED, current_user, sign_in, sign_out
from ..data import current_store
from ..forms import LoginForm, RegisterForm, form_status, text
from ..logs import event
from ..security import current_hasher, is_safe_next
from ..services import account_mail, users
from ..services.errors import Conflict
from ..throttle import throttled

blueprint = Blueprint("account", __name__)
log = logging.getLogger("notes_service.auth")

ACCOUNT_CREATED = "Account created successfully."
LOGGED_IN = "Logged in successfully."
LOGGED_OUT = "You have been logged out."
INVALID_LOGIN = "Invalid email or password."


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
            event(log, "registered", user_id=verified.user_id)
            await flash(ACCOUNT_CREATED, "success")
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
        elif verified is not None and await sign_in(store, verified, remember=remember):
            event(log, "login_ok", user_id=verified.user_id, remember=remember)
            await flash(LOGGED_IN, "success")
            return redirect(_safe_next(next_url))
        else:
            event(log, "login_failed", client=request.remote_addr)
            await flash(INVALID_LOGIN, "danger")
    page = await render_template("auth/login.html", form=form, next_url=next_url)
    return page, form_status(form)


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
