"""notes_client: a typed async client for the notes-service JSON API (SPEC §10).

`NotesClient` has a method for every `/api` route.
"""

from .client import NotesClient
from .errors import (
    APIError,
    BadRequest,
    Conflict,
    CursorExpired,
    Forbidden,
    InvalidCursor,
    NotesClientError,
    NotFound,
    PreconditionFailed,
    RateLimited,
    ResponseError,
    RetryLater,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from .http import Retry
from .models import Change, ChangesPage, Deleted, Event, Export, FeedItem, Note, Page, Token, TokenInfo, User
from .pages import Pages

__all__ = [
    "APIError",
    "BadRequest",
    "Change",
    "ChangesPage",
    "Conflict",
    "CursorExpired",
    "Deleted",
    "Event",
    "Export",
    "FeedItem",
    "Forbidden",
    "InvalidCursor",
    "NotFound",
    "Note",
    "NotesClient",
    "NotesClientError",
    "Page",
    "Pages",
    "PreconditionFailed",
    "RateLimited",
    "ResponseError",
    "Retry",
    "RetryLater",
    "ServiceUnavailable",
    "Token",
    "TokenInfo",
    "Unauthorized",
    "User",
    "ValidationFailed",
]
