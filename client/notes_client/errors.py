"""The exceptions the client raises: one per answer a caller handles differently, each with the
server's own message (`{"error": ..., "details": ...}`), so `str(error)` is what the API said.

`APIError` is the base of every error the server answered with; `ResponseError` means the server
answered something this client cannot read (not JSON, a field missing), which is a bug on one side.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from .models import Note


class NotesClientError(Exception):
    """Anything this package raises on purpose."""


class ResponseError(NotesClientError):
    """The server's answer is not what the API promises (not JSON, a field missing)."""


class APIError(NotesClientError):
    """The server refused the request: `status`, its `message`, and `details` when it named fields."""

    def __init__(self, status: int, message: str, details: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details: Mapping[str, str] = details or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.message!r})"


class BadRequest(APIError):
    """400: the body is not JSON, or a value the server cannot use (a link token, a cursor)."""


class InvalidCursor(BadRequest):
    """400 `Invalid cursor` from the change feed: tampered, another account's, or another key's."""


class Unauthorized(APIError):
    """401: no token, an invalid, revoked or expired one, or wrong credentials."""


class Forbidden(APIError):
    """403: the note (or trashed note) belongs to another account."""


class NotFound(APIError):
    """404: no such note, token or route (a trashed note is not found outside the trash)."""


class Conflict(APIError):
    """409: the username or email is taken (`details` names which)."""


class CursorExpired(APIError):
    """410: the feed's cursor is older than a purged deletion marker: sync from the start."""


class PreconditionFailed(APIError):
    """412: the note changed since it was read; `current` is the note as it is now (None when it
    could not be read: deleted meanwhile)."""

    def __init__(self, status: int, message: str, details: Mapping[str, str] | None = None) -> None:
        super().__init__(status, message, details)
        self.current: Note | None = None


class ValidationFailed(APIError):
    """422: a field broke a rule; `details` maps each bad field to the reason."""


class RetryLater(APIError):
    """429 or 503 still answered after the client's retries; `retry_after` in seconds, if given."""

    def __init__(
        self,
        status: int,
        message: str,
        details: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, message, details)
        self.retry_after = retry_after


class RateLimited(RetryLater):
    """429: too many attempts (sign-ins, registrations) or too many open streams."""


class ServiceUnavailable(RetryLater):
    """503: the service is busy or starting (too many streams on a worker, a database down)."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: CursorExpired,
    412: PreconditionFailed,
    422: ValidationFailed,
}


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds: a number, or an HTTP date from now; None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_for(response: httpx.Response) -> APIError:
    """The exception for an error answer, with the message and details of its JSON body."""
    message, details = _message_of(response)
    status = response.status_code
    if status == 429:
        return RateLimited(status, message, details, retry_after(response))
    if status == 503:
        return ServiceUnavailable(status, message, details, retry_after(response))
    kind = _BY_STATUS.get(status, APIError)
    if kind is BadRequest and message == "Invalid cursor":
        kind = InvalidCursor
    return kind(status, message, details)


def _message_of(response: httpx.Response) -> tuple[str, dict[str, str] | None]:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        details = body.get("details")
        if isinstance(details, dict):
            return body["error"], {str(key): str(value) for key, value in details.items()}
        return body["error"], None
    return response.reason_phrase or f"HTTP {response.status_code}", None
