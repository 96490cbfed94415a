"""Who is asking: cookie sign-ins for people (quart-auth), bearer tokens for the API.

The two never mix: the cookie only names a server-side auth session, looked up (with its user) once
per browser request before the route runs; `/api/*` routes only accept `Authorization: Bearer`.
Both can be revoked at once. Routes get the signed-in user as a `CurrentUser`, their first argument.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from quart import Quart, Response, flash, g, redirect, request, url_for
from quart_auth import AuthUser, QuartAuth, Unauthorized, login_user, logout_user
from quart_auth import current_user as cookie_user

from ..data import Store, current_store
from ..services import auth_sessions, tokens, users
from ..services.users import CurrentUser, Verified
from . import cookies
from .activity import Claims, record_activity
from .current import current_lifetime
from .errors import BEARER_CHALLENGE, HTTPError
from .forms import renew_csrf_secret
from .paths import is_api_path

DEACTIVATED = "Your account has been deactivated."
LOGIN_REQUIRED = "Please log in to access this page."
# Pages that never show who is signed in, so they need no lookup (and the probes no database).
ANONYMOUS_ENDPOINTS = {"static", "main.favicon", "main.healthz", "main.readyz"}
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class BrowserSignIn:
    """What this browser request's cookie came to: a user, or none (and why, when it matters)."""

    user: CurrentUser | None = None
    deactivated: bool = False


class RequestAwareAuth(QuartAuth):
    """quart-auth whose cookie is Secure, and `__Host-` named, exactly when the request came over HTTPS.

    quart-auth's default (always Secure) makes browsers drop the cookie on plain-http localhost.
    """

    @property
    def cookie_secure(self) -> bool:
        return cookies.is_secure()

    @cookie_secure.setter
    def cookie_secure(self, _value: bool | None) -> None:
        """Ignore the static setting; the request decides."""

    @property
    def cookie_name(self) -> str:
        return cookies.cookie_name(cookies.AUTH_COOKIE)

    @cookie_name.setter
    def cookie_name(self, _value: str | None) -> None:
        """Ignore the static setting; the request's scheme decides."""

    async def after_request(self, response: Response) -> Response:
        if is_api_path(request.path):
            return response  # cookies never authenticate the API, so there is nothing to write
        return await super().after_request(response)


def init_app(app: Quart) -> None:
    settings = app.config["NOTES"]
    app.config["QUART_AUTH_SALT"] = "notes-service session"
    app.config["QUART_AUTH_DURATION"] = int(timedelta(days=settings.remember_days).total_seconds())
    RequestAwareAuth(app)
    app.extensions["activity"] = Claims()

    @app.before_request
    async def identify_browser() -> None:
        if not is_api_path(request.path) and request.endpoint not in ANONYMOUS_ENDPOINTS:
            g.browser_sign_in = await _browser_sign_in(current_store())

    @app.context_processor
    async def inject_user() -> dict[str, Any]:
        return {"current_user": current_user()}

    @app.errorhandler(Unauthorized)
    async def redirect_to_login(_error: Unauthorized) -> Any:
        if not g.get("browser_sign_in", BrowserSignIn()).deactivated:
            await flash(LOGIN_REQUIRED, "warning")
        return redirect(url_for("account.login", next=request.full_path.rstrip("?")))


async def _browser_sign_in(store: Store) -> BrowserSignIn:
    """Look the cookie's auth session up; end it if the account was deactivated."""
    secret = cookie_user.auth_id
    if secret is None:
        return BrowserSignIn()
    found = await auth_sessions.find_auth_session(store, secret=secret, lifetime=current_lifetime())
    if found is None:
        logout_user()
        return BrowserSignIn()
    if not found.is_active:
        async with store.write():
            await auth_sessions.end_auth_session(store, auth_session_id=found.auth_session_id)
        await flash(DEACTIVATED, "danger")
        logout_user()
        return BrowserSignIn(deactivated=True)
    if found.stale:
        await record_activity(store, found.user)
    return BrowserSignIn(found.user)


def current_user() -> CurrentUser | None:
    """The signed-in user of this browser request, or None."""
    sign_in: BrowserSignIn = g.get("browser_sign_in", BrowserSignIn())
    return sign_in.user


def login_required(view: Callable[Concatenate[CurrentUser, P], Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Let only signed-in people in, passing the route their `CurrentUser` first; others go to /login."""

    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        user = current_user()
        if user is None:
            raise Unauthorized()
        return await view(user, *args, **kwargs)

    return wrapper


async def sign_in(store: Store, verified: Verified, *, remember: bool) -> bool:
    """Start a server-side auth session and hand its secret to quart-auth's cookie.

    False, and no session, when anything the decision rested on changed since the password was
    checked (the password, two-factor sign-in, the active flag: `users.still_current`, in the write
    block that creates the session). The session carries the security stamp the checks saw.
    """
    async with store.write():
        if not verified.is_active or not await users.still_current(store, verified):
            return False
        secret = await auth_sessions.start_auth_session(
            store,
            user_id=verified.user_id,
            remember=remember,
            user_agent=request.headers.get("User-Agent", ""),
            security_stamp=verified.security_stamp,
        )
    login_user(AuthUser(secret), remember=remember)
    renew_csrf_secret()  # a form token taken before signing in is no good after
    return True


async def sign_out(store: Store) -> None:
    """End this browser's auth session on the server and drop the cookie."""
    user = current_user()
    if user is not None and user.auth_session_id is not None:
        async with store.write():
            await auth_sessions.end_auth_session(store, auth_session_id=user.auth_session_id)
    logout_user()
    renew_csrf_secret()


TokenCheck = Callable[[Store, str], Awaitable[tokens.FoundToken | None]]


def token_required_with(
    check: TokenCheck,
) -> Callable[[Callable[Concatenate[CurrentUser, P], Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """`token_required` with another check of the secret: one that also reads what the route needs,
    in the token check's own statement, and hands it on in the user it finds (as
    `services.first_page.WithFirstPage` holds the first page of notes). Every 401 still comes before
    anything else."""

    def decorator(view: Callable[Concatenate[CurrentUser, P], Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
            secret = secret.strip()
            if scheme.lower() != "bearer" or not secret:
                raise HTTPError(401, "Token required", headers=BEARER_CHALLENGE)
            store = current_store()
            found = await check(store, secret)
            if found is None:
                raise HTTPError(401, "Invalid token", headers=BEARER_CHALLENGE)
            if found.stale:
                await record_activity(store, found.user)
            return await view(found.user, *args, **kwargs)

        return wrapper

    return decorator


async def find_token(store: Store, secret: str) -> tokens.FoundToken | None:
    """The plain check: the token and its user."""
    return await tokens.find_token(store, secret=secret)


# Authenticate `/api/*` requests by bearer token and pass the route its `CurrentUser` first.
token_required = token_required_with(find_token)
