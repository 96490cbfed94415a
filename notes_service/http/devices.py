"""Device cookies: a browser that has signed in to an account keeps a sign-in budget of its own.

The per-account budget (`throttle.limit_signin`) stops password guessing spread over many client
addresses, but anyone who knows an address could spend it and keep the owner out (issue #20, item 11).
So every successful browser sign-in leaves a long-lived cookie in that browser naming the account (a
keyed digest of its email, never the address itself) with a random device id, signed with the app's
secret (itsdangerous). A sign-in whose cookie names the account it submits spends that device's budget
instead of the account's: the owner gets in while strangers are refused ("device cookies", as OWASP
describes them). The cookie proves only that this browser signed in to the account once: it signs no
one in, and a device that guesses wrong spends only its own budget. Browser routes only: cookies
never count for `/api` (SPEC §3), where a valid two-factor code plays this part.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from itsdangerous import BadData, URLSafeTimedSerializer
from quart import after_this_request, current_app, request
from quart.typing import ResponseTypes

from . import cookies
from .paths import is_api_path

DEVICE_COOKIE = "notes_device"
SALT = "notes-service device"
LIFETIME = timedelta(days=365)
# Accounts one browser remembers (a shared computer), most recently signed in first.
MAX_ACCOUNTS = 5


def device_for(email: str) -> str | None:
    """The id of this browser's device for the account of `email`, when its device cookie names it."""
    if is_api_path(request.path):
        return None
    account = _account_digest(email)
    return next((device for named, device in _entries() if hmac.compare_digest(named, account)), None)


def remember_device(email: str) -> None:
    """Name the account of `email` in this browser's device cookie, set with the response."""
    account = _account_digest(email)
    entries = _entries()
    device = next((device for named, device in entries if named == account), None) or secrets.token_hex(16)
    kept = [[account, device], *([named, other] for named, other in entries if named != account)]
    value = _serializer().dumps(kept[:MAX_ACCOUNTS])
    secure, name = cookies.is_secure(), cookies.cookie_name(DEVICE_COOKIE)

    @after_this_request
    async def set_device_cookie(response: ResponseTypes) -> ResponseTypes:
        response.set_cookie(
            name,
            value,
            max_age=int(LIFETIME.total_seconds()),
            path="/",
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
        return response


def _entries() -> list[tuple[str, str]]:
    """The (account digest, device id) pairs of a valid cookie; none for a forged or expired one."""
    raw = request.cookies.get(cookies.cookie_name(DEVICE_COOKIE))
    if not raw:
        return []
    try:
        payload = _serializer().loads(raw, max_age=int(LIFETIME.total_seconds()))
    except BadData:
        return []
    if not isinstance(payload, list):
        return []
    return [
        (entry[0], entry[1])
        for entry in payload
        if isinstance(entry, list) and len(entry) == 2 and all(isinstance(part, str) for part in entry)
    ]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _account_digest(email: str) -> str:
    """The account as the cookie names it: readable by no one without the app's secret."""
    key = f"{SALT}:{current_app.config['SECRET_KEY']}".encode()
    return hmac.new(key, email.strip().lower()[:254].encode(), hashlib.sha256).hexdigest()[:32]
