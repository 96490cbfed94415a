"""JSON out: rows to the shapes of `schemas.py` (plain dicts, never re-validated), and the encoder.

Datetimes stay datetimes in these dicts: orjson writes an aware one as ISO 8601 with its offset
(`2026-11-28T05:29:13.633411+00:00`, SPEC §1) by itself, and several times faster than the standard
library writes a page of notes.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel
from quart import Response

from .models import ApiToken, Note, User


class JSONProvider(DefaultJSONProvider):
    """The app's JSON (responses, request bodies, the session cookie), by orjson."""

    def dumps(self, obj: Any, **_options: Any) -> str:
        return _encode(obj).decode()

    def loads(self, s: str | bytes, **_options: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = _encode(self._prepare_response_obj(args, kwargs))
        return self._app.response_class(body, mimetype=self.mimetype)  # type: ignore[no-any-return]


def _encode(obj: Any) -> bytes:
    try:
        return orjson.dumps(obj, default=_jsonable)
    except orjson.JSONEncodeError:  # e.g. the OpenAPI document's integer status keys
        return orjson.dumps(obj, default=_jsonable, option=orjson.OPT_NON_STR_KEYS)


def _jsonable(value: Any) -> Any:
    """What orjson cannot write itself: pydantic models (the OpenAPI document has some)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def note_json(note: Note | Any) -> dict[str, Any]:
    """A Note, or a note row of the read path (same attribute names)."""
    return {
        "id": note.id,
        "title": note.title,
        "content": note.content,
        "is_pinned": note.is_pinned,
        "created_at": note.created_at,
        "updated_at": note.updated_at,
    }


def token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
    }


def user_json(user: User | Any) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "created_at": user.created_at,
    }
