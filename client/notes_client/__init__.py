"""notes_client: a typed async client for the notes-service JSON API (SPEC §10).

`NotesClient` has a method for every `/api` route; `Mirror` keeps a local SQLite copy of the notes
in step; `notes-client` is the command line (cli.py).
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
from .mirror import Mirror
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
    "Mirror",
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
