"""What every response shares: cookies that follow the scheme, CSRF, headers, ids in URLs, and a
connection that is closed, and says so, when a request body was left unread.

Pages of a signed-in person, /settings (it shows a new token's secret once) and the whole API
(`POST /api/token` answers with a secret) are `Cache-Control: no-store`: no browser history, disk
cache or shared proxy may keep them for the next person at that machine.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from quart import Quart, Response, request
from quart.sessions import SecureCookieSession, SecureCookieSessionInterface
from quart.wrappers import BaseRequestWebsocket
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter

from . import cookies
from .connections import ASGIApp
from .errors import HTTPError
from .forms import CSRFForm
from .paths import is_api_path, is_app_path

CSRF_FAILED = "The form expired or was not sent by this site. Go back, reload the page and try again."
CSRF_HEADER = "X-CSRF-Token"
CSRF_HEADER_FAILED = "CSRF token missing or invalid: send the page's token in X-CSRF-Token."
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NUL_IN_FORM = "The form contained a NUL character, which no field accepts."
MAX_ID = 2**31 - 1
MAX_ID_DIGITS = len(str(MAX_ID))
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
PAGE_POLICY = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
# /password/ and /email/ pages are opened from emailed links that carry a token in their URL.
PRIVATE_PREFIXES = ("/settings/", "/password/", "/email/")


class IdConverter(IntegerConverter):
    """A database id in a URL. Digits outside 1..2**31-1 become 0, an id no row has, so that they
    are a plain 404 (werkzeug answers a 405 when a converter refuses a value) and never overflow
    a database integer."""

    def to_python(self, value: str) -> int:
        number = int(value) if len(value) <= MAX_ID_DIGITS else 0
        return number if 0 < number <= MAX_ID else 0


class SchemeAwareSessionInterface(SecureCookieSessionInterface):
    """Quart's signed session cookie (CSRF secret, flashes), Secure and `__Host-` named exactly over HTTPS.

    The JSON API has no use for it (bearer tokens only), so /api requests skip it altogether.
    """

    def get_cookie_secure(self, app: Quart) -> bool:
        return cookies.is_secure()

    def get_cookie_name(self, app: Quart) -> str:
        return cookies.cookie_name(super().get_cookie_name(app))

    async def open_session(self, app: Quart, request: BaseRequestWebsocket) -> SecureCookieSession | None:
        if is_api_path(request.path):
            return await self.make_null_session(app)
        return await super().open_session(app, request)


def csrf_token() -> str:
    """A CSRF token for hand-written forms (buttons); WTForms forms render their own."""
    return str(CSRFForm().csrf_token.current_token)


def init_app(app: Quart) -> None:
    app.url_map.converters["id"] = IdConverter
    app.session_interface = SchemeAwareSessionInterface()
    app.add_template_global(csrf_token)

    @app.before_request
    async def check_csrf() -> None:
        """Refuse any browser form POST without a valid `csrf_token`, or with a NUL character (400);
        a write to the browser app's JSON routes without a valid `X-CSRF-Token` header (403)."""
        if is_app_path(request.path):
            if request.method in UNSAFE_METHODS and not _header_token_valid():
                raise HTTPError(403, CSRF_HEADER_FAILED)
            return
        if request.method != "POST" or is_api_path(request.path):
            return
        form = await CSRFForm.from_request()
        if not form.validate():
            raise HTTPError(400, CSRF_FAILED)
        if any("\x00" in value for value in (await request.form).values()):
            raise HTTPError(400, NUL_IN_FORM)  # PostgreSQL text cannot hold NUL characters

    @app.after_request
    async def add_security_headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if response.mimetype == "text/html":  # a page with its own policy (http/docs.py) keeps it
            response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        if _private(response):
            response.headers["Cache-Control"] = "no-store"
        return response


def _header_token_valid() -> bool:
    """Whether `X-CSRF-Token` holds a token of this browser's CSRF secret (as a form's field would).
    Another site's page can send a cookie but cannot read the token, nor set a header without CORS."""
    token = request.headers.get(CSRF_HEADER, "")
    return bool(token) and CSRFForm(formdata=MultiDict({"csrf_token": token})).validate()


def _private(response: Response) -> bool:
    """Whether this answer may hold something of one person's (so no cache may keep it).

    Any page requested with the sign-in cookie counts, valid or not: checking it here would cost a
    lookup, and an expired cookie's page is at worst stored nowhere.
    """
    if (
        is_api_path(request.path)
        or is_app_path(request.path)
        or f"{request.path.rstrip('/')}/".startswith(PRIVATE_PREFIXES)
    ):
        return True
    signed_in = cookies.cookie_name(cookies.AUTH_COOKIE) in request.cookies
    return signed_in and response.mimetype == "text/html"


class CloseAfterUnreadBody:
    """ASGI middleware: `Connection: close` on a response sent before the request body was read.

    A 401 or 413 answers before a large body has arrived; hypercorn then cannot reuse the connection
    and closes it, and a client that was not told so sends its next request into the closed socket
    (measured: 40 of 40 requests after a 2 MiB unauthenticated POST failed that way).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Any, receive: Any, send: Any) -> Coroutine[Any, Any, None]:
        # HTTP/2 closes streams, not connections, and forbids a Connection header. Without a body,
        # the app's own coroutine is returned: no frame of this one held while a live stream runs.
        if scope["type"] != "http" or scope["http_version"] == "2" or not _declares_body(scope["headers"]):
            return self.app(scope, receive, send)
        return self._watched(scope, receive, send)

    async def _watched(self, scope: Any, receive: Any, send: Any) -> None:
        body_read = False

        async def receive_and_watch() -> Any:
            nonlocal body_read
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                body_read = True
            return message

        async def send_and_close(message: Any) -> None:
            if message["type"] == "http.response.start" and not body_read:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive_and_watch, send_and_close)


def _declares_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
        if name == b"transfer-encoding":
            return True
    return False
