"""What the API answers, as frozen dataclasses read from its JSON.

Reading is tolerant: a field this client does not know is kept in `raw` (the JSON object as it came)
and otherwise ignored, so a newer server never breaks an older client; a field the API promises
that is missing or of the wrong kind raises `ResponseError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from .errors import ResponseError

T = TypeVar("T")
JSON = Mapping[str, Any]


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"not a time: {value!r}")
    return datetime.fromisoformat(value)


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else _time(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"not an integer: {value!r}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"not a string: {value!r}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"not a boolean: {value!r}")
    return value


def _object(data: Any, kind: str) -> JSON:
    if not isinstance(data, Mapping):
        raise ResponseError(f"expected a {kind} object, got {type(data).__name__}")
    return data


@dataclass(frozen=True)
class Note:
    """A note. `etag` is the one the server sent with it (a single note's answer), None for notes
    read from a list, the feed or the stream; the client never makes one up."""

    id: int
    title: str
    content: str
    is_pinned: bool
    created_at: datetime
    updated_at: datetime
    version: int | None = None
    tags: tuple[str, ...] = ()
    deleted_at: datetime | None = None
    etag: str | None = field(default=None, compare=False)
    raw: JSON = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_json(cls, data: Any, etag: str | None = None) -> Note:
        note = _object(data, "note")
        try:
            version = note.get("version")
            tags = note.get("tags") or []
            return cls(
                id=_int(note["id"]),
                title=_str(note["title"]),
                content=_str(note["content"]),
                is_pinned=_bool(note["is_pinned"]),
                created_at=_time(note["created_at"]),
                updated_at=_time(note["updated_at"]),
                version=None if version is None else _int(version),
                tags=tuple(_str(tag) for tag in tags),
                deleted_at=_optional_time(note.get("deleted_at")),
                etag=etag,
                raw=dict(note),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ResponseError(f"not a note: {error}") from error


@dataclass(frozen=True)
class Token:
    """A new API token: `token` is the secret, shown this once."""

    token: str
    token_type: str
    expires_at: datetime | None

    @classmethod
    def from_json(cls, data: Any) -> Token:
        body = _object(data, "token")
        try:
            return cls(_str(body["token"]), _str(body["token_type"]), _optional_time(body.get("expires_at")))
        except (KeyError, TypeError, ValueError) as error:
            raise ResponseError(f"not a token: {error}") from error


@dataclass(frozen=True)
class TokenInfo:
    """One of the account's tokens as listed: never its secret."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def from_json(cls, data: Any) -> TokenInfo:
        body = _object(data, "token")
        try:
            return cls(
                _int(body["id"]),
                _str(body["name"]),
                _time(body["created_at"]),
                _optional_time(body.get("last_used_at")),
                _optional_time(body.get("expires_at")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ResponseError(f"not a token: {error}") from error


@dataclass(frozen=True)
class User:
    """An account (`GET /api/me`, `POST /api/users`); the flags are None when a server omits them."""

    id: int
    username: str
    email: str
    created_at: datetime
    email_verified: bool | None = None
    two_factor: bool | None = None

    @classmethod
    def from_json(cls, data: Any) -> User:
        body = _object(data, "user")
        try:
            verified, two_factor = body.get("email_verified"), body.get("two_factor")
            return cls(
                _int(body["id"]),
                _str(body["username"]),
                _str(body["email"]),
                _time(body["created_at"]),
                None if verified is None else _bool(verified),
                None if two_factor is None else _bool(two_factor),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ResponseError(f"not a user: {error}") from error


@dataclass(frozen=True)
class Export:
    """`GET /api/export`: the account and every note of it, trashed ones with `deleted_at`."""

    user: User
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; `next_url` is where the following one is (None on the last)."""

    items: tuple[T, ...]
    next_url: str | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Change:
    """In the feed or the stream: a note that exists (trashed too: then with `deleted_at`), in its
    latest state."""

    note: Note

    @property
    def id(self) -> int:
        return self.note.id


@dataclass(frozen=True)
class Deleted:
    """In the feed or the stream: a note deleted forever."""

    id: int


FeedItem = Change | Deleted


def feed_item(data: Any) -> FeedItem:
    """`{"note": {...}}` or `{"id": N, "deleted": true}`."""
    body = _object(data, "change")
    if "note" in body:
        return Change(Note.from_json(body["note"]))
    try:
        if body.get("deleted") is True:
            return Deleted(_int(body["id"]))
    except (KeyError, TypeError) as error:
        raise ResponseError(f"not a change: {error}") from error
    raise ResponseError(f"not a change: {dict(body)!r}")


@dataclass(frozen=True)
class ChangesPage:
    """`GET /api/changes`: changes after the cursor asked for, oldest first; go on from `cursor`
    (the same one when nothing changed); `more` when another page is waiting."""

    changes: tuple[FeedItem, ...]
    cursor: str
    more: bool

    @classmethod
    def from_json(cls, data: Any) -> ChangesPage:
        body = _object(data, "changes")
        try:
            changes = body["changes"]
            if not isinstance(changes, list):
                raise TypeError("changes is not a list")
            return cls(tuple(feed_item(item) for item in changes), _str(body["cursor"]), _bool(body["more"]))
        except (KeyError, TypeError) as error:
            raise ResponseError(f"not a page of changes: {error}") from error


@dataclass(frozen=True)
class Event:
    """One event of the live stream: the change, and the feed cursor just after it (`id:`)."""

    cursor: str
    change: FeedItem
