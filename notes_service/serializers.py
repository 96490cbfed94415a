"""ORM rows to the JSON shapes of `schemas.py`: plain dicts, built once, never re-validated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .models import ApiToken, Note, User


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with its UTC offset, as SPEC §1 asks."""
    return moment.isoformat() if moment is not None else None


def note_json(note: Note | Any) -> dict[str, Any]:
    """A Note, or a note row of the read path (same attribute names)."""
    return {
        "id": note.id,
        "title": note.title,
        "content": note.content,
        "is_pinned": note.is_pinned,
        "created_at": iso(note.created_at),
        "updated_at": iso(note.updated_at),
    }


def token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
        "expires_at": iso(token.expires_at),
    }


def user_json(user: User | Any) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "created_at": iso(user.created_at),
    }
