"""Two-factor sign-in settings (SPEC §8): enrol with a code, turn it off, replace the recovery codes.

The secret offered on the enrolment page waits in Quart's signed session cookie, encrypted and bound
to the user, until a code made from it arrives with the current password: only then is it stored,
and two-factor sign-in on. Turning it on or off ends every other browser session of the user and
revokes every API token (a change of the account's security: its stamp changes). Code checks on a
signed-in account share the per-user budget of current-password checks, so a stolen session cannot
guess its way to new recovery codes.
"""

from __future__ import annotations

import logging
from typing import Any

from quart import Blueprint, flash, redirect, render_template, session, url_for

from ..data import current_store
from ..http.auth import login_required
from ..http.current import current_box, current_hasher
from ..http.forms import CodeForm, TwoFactorDisableForm, TwoFactorEnableForm, text
from ..http.logs import event
from ..http.throttle import limit_password_checks
from ..services import auth_sessions, tokens, totp, two_factor, users
from ..services.users import CurrentUser

blueprint = Blueprint("two_factor", __name__, url_prefix="/settings/2fa")
log = logging.getLogger("notes_service.http.auth")

ENROL_KEY = "two_factor_enrol"  # in Quart's session: the offered secret, sealed
TURNED_ON = "Two-factor sign-in is on."
TURNED_OFF = "Two-factor sign-in is off."
INVALID_CODE = "Invalid code."
INVALID_PASSWORD = "Invalid password."  # turning it on (SPEC §8)
WRONG_PASSWORD = "Current password is incorrect."
CODES_REPLACED = "New recovery codes: the old ones no longer work."


def _enrol_context(user_id: int) -> str:
    return f"totp:enrol:{user_id}"


async def _render(
    user: CurrentUser,
    *,
    enabled: bool,
    secret: str | None = None,
    code_form: CodeForm | None = None,
    enable_form: TwoFactorEnableForm | None = None,
    disable_form: TwoFactorDisableForm | None = None,
    recovery_codes: list[str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The page: enrolment when off (secret, URI, QR code, code form), else status and the forms."""
    uri = None if secret is None else totp.provisioning_uri(secret, user.email)
    page = await render_template(
        "settings/two_factor.html",
        enabled=enabled,
        secret=secret,
        uri=uri,
        qr_svg=None if uri is None else totp.qr_svg(uri),
        code_form=code_form or CodeForm(),
        enable_form=enable_form or TwoFactorEnableForm(),
        disable_form=disable_form or TwoFactorDisableForm(),
        recovery_codes=recovery_codes,
        codes_left=await two_factor.recovery_codes_left(current_store(), user_id=user.id) if enabled else 0,
    )
    return page, status


@blueprint.get("")
@login_required
async def settings(user: CurrentUser) -> Any:
    """When off: a fresh secret to enrol; when on: the status, disable and regenerate forms."""
    if user.two_factor:
        return await _render(user, enabled=True)
    secret = totp.new_secret()
    session[ENROL_KEY] = current_box().seal(secret, context=_enrol_context(user.id))
    return await _render(user, enabled=False, secret=secret)


@blueprint.post("")
@login_required
async def turn_on(user: CurrentUser) -> Any:
    """The current password and a correct code for the offered secret turn two-factor sign-in on,
    end the other sessions, revoke every API token, and show recovery codes once."""
    if user.two_factor:
        return redirect(url_for("two_factor.settings"))
    form = await TwoFactorEnableForm.from_request()
    sealed = session.get(ENROL_KEY)
    box = current_box()
    secret = box.open(sealed, context=_enrol_context(user.id)) if isinstance(sealed, str) else None
    if secret is None:  # no enrolment under way in this browser: offer a secret first
        return redirect(url_for("two_factor.settings"))
    if not form.validate():
        return await _render(user, enabled=False, secret=secret, enable_form=form, status=422)
    store = current_store()
    await limit_password_checks(user.id)
    verified = await users.check_password(
        store, current_hasher(), user_id=user.id, password=text(form.current_password)
    )
    step = totp.matching_step(secret, text(form.code))
    problem = INVALID_PASSWORD if verified is None else INVALID_CODE if step is None else ""
    codes = totp.new_recovery_codes()
    if verified is not None and step is not None:
        async with store.write():
            # The password is still current and 2FA still off (another tab may have turned it on).
            if not await users.still_current(store, verified):
                problem = INVALID_PASSWORD
            else:
                await two_factor.turn_on(store, box, user_id=user.id, secret=secret, step=step, codes=codes)
                await auth_sessions.end_other_auth_sessions(
                    store, user_id=user.id, keep_id=user.auth_session_id
                )
                await tokens.revoke_all_tokens(store, user_id=user.id)  # docs/two-factor.md
    if problem:
        await flash(problem, "danger")
        return await _render(user, enabled=False, secret=secret, enable_form=form)
    session.pop(ENROL_KEY, None)
    event(log, "two_factor_on", user_id=user.id)
    await flash(TURNED_ON, "success")
    return await _render(user, enabled=True, recovery_codes=codes)


@blueprint.post("/disable")
@login_required
async def turn_off(user: CurrentUser) -> Any:
    """The current password and a code (TOTP or recovery) turn two-factor sign-in off."""
    if not user.two_factor:
        return redirect(url_for("two_factor.settings"))
    form = await TwoFactorDisableForm.from_request()
    if not form.validate():
        return await _render(user, enabled=True, disable_form=form, status=422)
    store = current_store()
    await limit_password_checks(user.id)
    verified = await users.check_password(
        store, current_hasher(), user_id=user.id, password=text(form.current_password)
    )
    problem = WRONG_PASSWORD
    if verified is not None:
        async with store.write():
            if await users.still_current(store, verified):
                problem = INVALID_CODE
                if await two_factor.accept_code(store, current_box(), user_id=user.id, code=text(form.code)):
                    problem = ""
                    await two_factor.turn_off(store, user_id=user.id)
                    await auth_sessions.end_other_auth_sessions(
                        store, user_id=user.id, keep_id=user.auth_session_id
                    )
                    await tokens.revoke_all_tokens(store, user_id=user.id)
    if problem:
        await flash(problem, "danger")
        return await _render(user, enabled=True, disable_form=form)
    event(log, "two_factor_off", user_id=user.id)
    await flash(TURNED_OFF, "info")
    return redirect(url_for("two_factor.settings"))


@blueprint.post("/recovery-codes")
@login_required
async def replace_recovery_codes(user: CurrentUser) -> Any:
    """A code (TOTP or recovery) gives 10 new recovery codes, shown once; the old ones stop working."""
    if not user.two_factor:
        return redirect(url_for("two_factor.settings"))
    form = await CodeForm.from_request()
    store = current_store()
    await limit_password_checks(user.id)
    codes = totp.new_recovery_codes()
    accepted = False
    if form.validate():
        async with store.write():
            box = current_box()
            if accepted := await two_factor.accept_code(store, box, user_id=user.id, code=text(form.code)):
                await two_factor.replace_recovery_codes(store, user_id=user.id, codes=codes)
    if not accepted:
        await flash(INVALID_CODE, "danger")
        return await _render(user, enabled=True, code_form=form)
    event(log, "recovery_codes_replaced", user_id=user.id)
    await flash(CODES_REPLACED, "success")
    return await _render(user, enabled=True, recovery_codes=codes)
