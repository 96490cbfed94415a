"""Who is asking: cookie sessions for people (quart-auth), bearer tokens for the API.

The two never mix: the cookie only names a server-side `AuthSession`, which is looked up (with its
user) once per request; `/api/*` routes only accept `Authorization: Bearer`. Both can be revoked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from quart import Quart, Response, current_app, flash, g, has_request_context, redirect, request, url_for
from quart_auth import (
    Action,
    AuthUser,
    QuartAuth,
    Unauthorized,
    current_user,
    login_user,
    logout_user,
)

from .db import get_session
from .errors import BEARER_CHALLENGE, APIError
from .models import User
from .reader import get_reader
from .services import sessions, tokens
from .services.sessions import SignedIn
from .services.touches import Touches

DEACTIVATED = "Your account has been deactivated."
LOGIN_REQUIRED = "Please log in to access this page."
View = TypeVar("View", bound=Callable[..., Awaitable[Any]])


class SessionUser(AuthUser):
    """The person behind the cookie; `auth_id` is the secret of their server-side session."""

    def __init__(self, auth_id: str | None, action: Action = Action.PASS) -> None:
        super().__init__(auth_id, action)
        self._loaded = False
        self.signed_in: SignedIn | None = None

    @property
    async def is_authenticated(self) -> bool:
        return await self.load() is not None

    async def load(self) -> SignedIn | None:
        """Look the session and its user up once; end it if the account was deactivated."""
        if self._loaded or self.auth_id is None:
            return self.signed_in
        self._loaded = True
        found = await sessions.load_session(get_reader(), secret=self.auth_id, lifetime=_lifetime())
        if found is None:
            logout_user()
            return None
        if not found.is_active:
            db = get_session()
            await sessions.end_session(db, session_id=found.session_id)
            await db.commit()
            await flash(DEACTIVATED, "danger")
            g.deactivated = True
            logout_user()
            return None
        if sessions.needs_touch(found) and _touches("sessions").claim(found.session_id):
            await sessions.touch_session(get_session(), signed_in=found)
        self.signed_in = found
        return found


class RequestAwareAuth(QuartAuth):
    """quart-auth whose cookie is Secure exactly when the request came over HTTPS.

    quart-auth's default (always Secure) makes browsers drop the cookie on plain-http localhost.
    """

    user_class = SessionUser

    @property  # type: ignore[override]
    def cookie_secure(self) -> bool:
        return has_request_context() and request.is_secure

    @cookie_secure.setter
    def cookie_secure(self, _value: bool | None) -> None:
        """Ignore the static setting; the request decides."""

    async def after_request(self, response: Response) -> Response:
        if request.path.startswith("/api/"):
            return response  # cookies never authenticate the API, so there is nothing to write
        return await super().after_request(response)


def init_app(app: Quart) -> None:
    settings = app.config["NOTES"]
    app.config["QUART_AUTH_COOKIE_NAME"] = "notes_auth"
    app.config["QUART_AUTH_SALT"] = "notes-service session"
    app.config["QUART_AUTH_DURATION"] = int(timedelta(days=settings.remember_days).total_seconds())
    RequestAwareAuth(app)
    app.extensions["touches"] = {
        "sessions": Touches(sessions.TOUCH_INTERVAL),
        "tokens": Touches(tokens.TOUCH_INTERVAL),
    }

    @app.context_processor
    async def inject_account() -> dict[str, Any]:
        return {"account": await current_account()}

    @app.errorhandler(Unauthorized)
    async def redirect_to_login(_error: Unauthorized) -> Any:
        if not g.get("deactivated"):
            await flash(LOGIN_REQUIRED, "warning")
        return redirect(url_for("account.login", next=request.full_path.rstrip("?")))


def _touches(kind: str) -> Touches:
    """This worker's claims on "last seen" writes (one request writes them, the others skip)."""
    return current_app.extensions["touches"][kind]  # type: ignore[no-any-return]


def _lifetime() -> sessions.Lifetime:
    settings = current_app.config["NOTES"]
    return sessions.Lifetime(
        remember=timedelta(days=settings.remember_days),
        idle=timedelta(hours=settings.session_idle_hours),
    )


async def current_account() -> SignedIn | None:
    """The signed-in user (and session) of this browser request, or None."""
    return await current_user.load()  # type: ignore[attr-defined, no-any-return]


def login_required(view: View) -> View:
    """Let only signed-in people in, passing the route their `User` first; others go to /login."""

    @wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = await current_account()
        if user is None:
            raise Unauthorized()
        return await view(user, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


async def sign_in(user: User, *, remember: bool) -> None:
    """Start a server-side session and hand its secret to quart-auth's cookie."""
    db = get_session()
    secret = await sessions.start_session(
        db, user_id=user.id, remember=remember, user_agent=request.headers.get("User-Agent", "")
    )
    await db.commit()
    login_user(SessionUser(secret), remember=remember)


async def sign_out() -> None:
    """End this browser's session on the server and drop the cookie."""
    signed_in = await current_account()
    if signed_in is not None:
        db = get_session()
        await sessions.end_session(db, session_id=signed_in.session_id)
        await db.commit()
    logout_user()


def token_required(view: View) -> View:
    """Authenticate `/api/*` requests by bearer token and pass the route its `Caller` first."""

    @wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise APIError(401, "Token required", headers=BEARER_CHALLENGE)
        caller = await tokens.authenticate_token(get_reader(), secret=secret)
        if caller is None:
            raise APIError(401, "Invalid token", headers=BEARER_CHALLENGE)
        if caller.needs_touch and _touches("tokens").claim(caller.token_id):
            await tokens.touch_token(get_session(), token_id=caller.token_id)
        g.caller = caller
        return await view(caller, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
