"""One error type with stable messages, rendered as JSON under /api and as a page elsewhere.

Routes raise `HTTPError`; services raise their own `services.errors`, mapped to 404/403 here.
"""

from __future__ import annotations

import logging
from typing import Any

from markupsafe import escape
from pydantic import ValidationError as PydanticValidationError
from quart import Quart, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ..data.dberrors import database_busy
from ..rules import REQUIRED
from ..services.errors import InTrash, Missing, NotOwner, Stale
from .error_pages import IN_TRASH, page_words
from .logs import event
from .paths import answers_json, is_api_path

log = logging.getLogger("notes_service")

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
BUSY_RETRY_SECONDS = 5
NO_DATA = "No data provided"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition failed",
    413: "Request too large",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_HTTP_MESSAGES = {413: "Request body too large"}
# The status names programs get: a page explains these in its own words instead (error_pages.py).
_GENERIC = {*TITLES.values(), *_HTTP_MESSAGES.values(), "Error"}


class HTTPError(Exception):
    """An error a client should see: a status, a stable message and optional per-field details;
    JSON for the API, a page for people."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        page: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message or TITLES.get(status, "Error")
        self.details = details
        self.headers = headers or {}
        self.page = page or {}  # what the page shows besides its words (the API never sees it)


async def render_error(error: HTTPError) -> tuple[Any, int, dict[str, str]]:
    """JSON `{"error", "details"?}` for the API (and the browser's JSON routes), the error page
    for people."""
    if answers_json(request.path):
        body: dict[str, Any] = {"error": error.message}
        if error.details:
            body["details"] = error.details
        return jsonify(body), error.status, error.headers
    # An error's own reason (a CSRF failure, a throttle's wait) is set apart as an alert.
    reason = error.message not in _GENERIC
    shown = {"words": page_words(error.status, error.message, _GENERIC), "reason": reason, **error.page}
    words = shown["words"]
    try:
        page = await render_template("errors/error.html", status=error.status, **shown)
    except Exception:  # the page itself failed (the database is down, say)
        log.exception("error page failed")
        page = (
            f"<!doctype html><title>{escape(words.title)}</title><h1>{escape(words.heading)}</h1>"
            f'<p>{escape(words.detail)}</p><p><a href="/">Back to the home page</a></p>'
        )
    return page, error.status, error.headers


def init_app(app: Quart) -> None:
    """Route every error, expected or not, through `render_error`."""

    @app.errorhandler(HTTPError)
    async def handle_error(error: HTTPError) -> Any:
        return await render_error(error)

    @app.errorhandler(Missing)
    async def handle_missing(_error: Missing) -> Any:
        return await render_error(HTTPError(404, "Not found"))

    @app.errorhandler(InTrash)
    async def handle_in_trash(error: InTrash) -> Any:
        # The API's answer is the plain 404 above; a person is offered the way out of the trash.
        return await render_error(
            HTTPError(404, "Not found", page={"words": IN_TRASH, "restore": error.args[0]})
        )

    @app.errorhandler(NotOwner)
    async def handle_not_owner(_error: NotOwner) -> Any:
        return await render_error(HTTPError(403, "Forbidden"))

    @app.errorhandler(Stale)
    async def handle_stale(_error: Stale) -> Any:
        return await render_error(HTTPError(412, "Precondition failed"))

    @app.errorhandler(HTTPException)
    async def handle_http_error(error: HTTPException) -> Any:
        if isinstance(error.response, Response):  # already a full response (a redirect, say)
            return error.response
        status = error.code or 500
        headers = dict(error.get_headers()) if status in {405, 429} else {}
        headers.pop("Content-Type", None)
        message = _HTTP_MESSAGES.get(status) or TITLES.get(status) or error.name
        if status == 400 and is_api_path(request.path):
            message = NO_DATA  # the body was not JSON
        return await render_error(HTTPError(status, message, headers=headers))

    @app.errorhandler(UnicodeDecodeError)
    async def handle_undecodable_body(_error: UnicodeDecodeError) -> Any:
        # Quart decodes a JSON body before its own error handling; bytes that are not UTF-8 are bad input.
        return await render_error(
            HTTPError(400, NO_DATA if is_api_path(request.path) else "The request body is not valid UTF-8.")
        )

    @app.errorhandler(Exception)
    async def handle_crash(error: Exception) -> Any:
        if database_busy(error):  # too many connections, a restart: try again shortly, not a crash
            event(log, "database_busy", error=type(error).__name__, path=request.path)
            return await render_error(HTTPError(503, headers={"Retry-After": str(BUSY_RETRY_SECONDS)}))
        log.exception("unhandled error on %s %s", request.method, request.path)
        return await render_error(HTTPError(500, "Internal server error"))


def validation_details(error: Exception) -> dict[str, str] | None:
    """Per-field messages from a pydantic error; None when the body as a whole was wrong."""
    if not isinstance(error, PydanticValidationError):
        return None
    details: dict[str, str] = {}
    for item in error.errors():
        if not item["loc"]:
            return None
        field = ".".join(str(part) for part in item["loc"])
        details.setdefault(field, REQUIRED if item["type"] == "missing" else item["msg"])
    return details
